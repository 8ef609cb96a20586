-- The gateway's read model of each tenant's pulled vendors (it cannot read the ingest schema):
-- fed by vendor.pulled, one row per vendor, its latest report (by seq; an older or repeated
-- report changes nothing). A vendor the config no longer pulls keeps a row with status
-- 'removed', which GET /v1/tenants/{id}/pulls leaves out.
CREATE TABLE vendor_pulls (
    tenant_id        text        NOT NULL,
    vendor_id        text        NOT NULL,
    kind             text        NOT NULL,
    status           text        NOT NULL,
    error_code       text,
    error            text,
    attempts         int         NOT NULL,
    last_attempt_at  timestamptz,
    last_success_at  timestamptz,
    next_due_at      timestamptz,
    seq              bigint      NOT NULL,
    reported_at      timestamptz NOT NULL,
    event_id         text        NOT NULL,
    PRIMARY KEY (tenant_id, vendor_id)
);
