-- Run assembly: each vendor's normalize result under a scope (a run, or a runless feed).
CREATE TABLE vendor_results (
    scope_id        text        NOT NULL,
    vendor_id       text        NOT NULL,
    tenant_id       text        NOT NULL,
    run_id          text,
    config_version  int         NOT NULL,
    status          text        NOT NULL,
    normalized_key  text,
    findings_key    text        NOT NULL,
    run_vendors     text[]      NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope_id, vendor_id)
);

-- The latest successfully merged normalized feed of each vendor: what a subset run or a
-- runless feed merges with.
CREATE TABLE latest_feeds (
    tenant_id       text        NOT NULL,
    vendor_id       text        NOT NULL,
    scope_id        text        NOT NULL,
    normalized_key  text        NOT NULL,
    findings_key    text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vendor_id)
);

-- Each merge's outcome (written after its artifacts, before its event).
CREATE TABLE merges (
    scope_id    text        PRIMARY KEY,
    tenant_id   text        NOT NULL,
    status      text        NOT NULL,
    merged_rows int         NOT NULL,
    merged_at   timestamptz NOT NULL DEFAULT now()
);
