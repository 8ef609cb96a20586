-- The gateway's state: tenants, API keys, config versions, runs, idempotency keys and
-- webhook receipts. Forward-only: a change is a new file.
CREATE TABLE tenants (
    tenant_id       text        PRIMARY KEY,
    name            text        NOT NULL,
    channels        text[]      NOT NULL DEFAULT '{}',
    config_version  int,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- tenant_id NULL = a platform key (admin). Only the sha256 of a key is stored.
CREATE TABLE api_keys (
    key_id      text        PRIMARY KEY,
    tenant_id   text        REFERENCES tenants (tenant_id),
    key_hash    text        NOT NULL UNIQUE,
    roles       text[]      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE config_versions (
    tenant_id   text        NOT NULL REFERENCES tenants (tenant_id),
    version     int         NOT NULL,
    config      jsonb       NOT NULL,
    s3_key      text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);

-- published_at NULL = run.requested not yet published (the runs table is its own outbox).
CREATE TABLE runs (
    run_id          text        PRIMARY KEY,
    tenant_id       text        NOT NULL REFERENCES tenants (tenant_id),
    run_type        text        NOT NULL,
    status          text        NOT NULL,
    stage           text        NOT NULL,
    config_version  int         NOT NULL,
    vendors         text[],
    force           boolean     NOT NULL DEFAULT false,
    correlation_id  text        NOT NULL,
    requested_at    timestamptz NOT NULL,
    published_at    timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    merged_rows     int,
    skus_left_out   int,
    error_code      text,
    error_message   text,
    error_report_key text,
    CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'))
);
CREATE INDEX runs_tenant_newest ON runs (tenant_id, requested_at DESC, run_id DESC);
CREATE INDEX runs_unpublished ON runs (tenant_id, requested_at) WHERE published_at IS NULL;

CREATE TABLE run_vendors (
    run_id      text NOT NULL REFERENCES runs (run_id),
    vendor_id   text NOT NULL,
    status      text NOT NULL,
    rows        int  NOT NULL DEFAULT 0,
    accepted    int  NOT NULL DEFAULT 0,
    rejected    int  NOT NULL DEFAULT 0,
    duplicates  int  NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, vendor_id)
);

CREATE TABLE idempotency_keys (
    tenant_id     text        NOT NULL,
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    run_id        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE webhook_receipts (
    tenant_id    text        NOT NULL,
    event_id     text        NOT NULL,
    kind         text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
