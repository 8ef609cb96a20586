-- What the daily evaluation needs of a tenant: its latest config version (tenant.configured
-- and offers.merged), the timezone and the daily time of that version, and when insights
-- first saw it (the first evaluation is the first scheduled moment after that).
CREATE TABLE schedules (
    tenant_id          text        PRIMARY KEY,
    config_version     int,
    timezone           text        NOT NULL DEFAULT 'UTC',
    evaluate_daily_at  text        NOT NULL DEFAULT '06:00',
    first_seen_at      timestamptz NOT NULL,
    last_day           date,
    last_as_of         timestamptz
);

-- One row per evaluated (tenant, local day): claimed with INSERT … ON CONFLICT DO NOTHING in
-- the evaluation's own transaction, so two replicas never evaluate a tenant's day twice.
CREATE TABLE daily_evaluations (
    tenant_id     text        NOT NULL,
    local_day     date        NOT NULL,
    as_of         timestamptz NOT NULL,
    products      int         NOT NULL DEFAULT 0,
    opened        int         NOT NULL DEFAULT 0,
    resolved      int         NOT NULL DEFAULT 0,
    purged        int         NOT NULL DEFAULT 0,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, local_day)
);

-- Whether an insight went out as an event (at most max_new_per_channel_per_day a channel's
-- local day; the rest are held and counted in that day's summary). A held insight's
-- resolution is not announced either.
ALTER TABLE insights ADD COLUMN announced boolean NOT NULL DEFAULT true;

CREATE TABLE daily_announcements (
    tenant_id   text NOT NULL,
    channel     text NOT NULL,
    local_day   date NOT NULL,
    sent        int  NOT NULL DEFAULT 0,
    held        int  NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, channel, local_day)
);

-- The reallocation list: open reallocation candidates (entry id = the insight id) and stock
-- a channel pushed (entry id push:<action id>). States: open → claimed (once, atomically:
-- UPDATE … WHERE state = 'open') | withdrawn (the candidate resolved while still open).
CREATE TABLE reallocation (
    tenant_id    text        NOT NULL,
    entry_id     text        NOT NULL,
    origin       text        NOT NULL,
    target       text,
    sku          text        NOT NULL,
    quantity     int         NOT NULL CHECK (quantity >= 0),
    reason       text        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('open', 'claimed', 'done', 'withdrawn')),
    claimed_by   text,
    changed_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, entry_id)
);
