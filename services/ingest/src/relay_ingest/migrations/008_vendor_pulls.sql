-- Vendor pulls (inbound.type https or sftp), from tenant.configured: one row per pulled vendor.
-- The schedule's truth is here: next_due_at is when the vendor is pulled next (at once when
-- it is new, its source changed or its last pull failed; then on its cron, tenant timezone;
-- sooner after a transient failure). A replica claims a due row by setting lease_id and
-- leased_until (FOR UPDATE SKIP LOCKED: replicas take different rows); only the holder of the
-- lease records the result, so a replica that died mid-pull leaves a row another takes over
-- once the lease ends. etag/last_modified/files remember what the last good pull saw
-- (conditional GET; sftp files by size and mtime). status/error_code/error are what an
-- operator reads per vendor.
CREATE TABLE vendor_pulls (
    tenant_id       text        NOT NULL,
    vendor_id       text        NOT NULL,
    config_version  int         NOT NULL,
    kind            text        NOT NULL,
    source          text        NOT NULL,
    cron            text        NOT NULL,
    timezone        text        NOT NULL,
    next_due_at     timestamptz NOT NULL,
    lease_id        text,
    leased_until    timestamptz,
    attempts        int         NOT NULL DEFAULT 0,
    etag            text,
    last_modified   text,
    files           jsonb       NOT NULL DEFAULT '{}',
    status          text        NOT NULL DEFAULT 'pending',
    error_code      text,
    error           text,
    last_attempt_at timestamptz,
    last_success_at timestamptz,
    last_key        text,
    PRIMARY KEY (tenant_id, vendor_id)
);
CREATE INDEX vendor_pulls_due ON vendor_pulls (next_due_at);
