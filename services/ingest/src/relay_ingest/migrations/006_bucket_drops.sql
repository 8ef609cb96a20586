-- Bucket drops (files put under tenants/{t}/inbound/{vendor}/ by any S3 client).
-- The tenants whose config watches some vendor's inbound prefix, from tenant.configured:
-- the config version the drops are announced with, the watched vendors, since when they are
-- watched (objects older than that are not drops), and the poll's resume key (the last key of
-- a truncated ListObjectsV2 page; NULL: the next poll starts at the prefix).
CREATE TABLE inbound_watches (
    tenant_id       text        PRIMARY KEY,
    config_version  int         NOT NULL,
    vendors         text[]      NOT NULL,
    watch_since     timestamptz NOT NULL,
    resume_after    text,
    polled_at       timestamptz
);

-- Every inbound object seen, once per (key, ETag): the poll and the bucket notifications both
-- insert here (ON CONFLICT DO NOTHING), and only the insert that wins writes the object's one
-- feed.received to the outbox, in its transaction.
CREATE TABLE inbound_objects (
    tenant_id       text        NOT NULL,
    key             text        NOT NULL,
    etag            text        NOT NULL,
    vendor_id       text        NOT NULL,
    size            bigint      NOT NULL,
    last_modified   timestamptz NOT NULL,
    source          text        NOT NULL,
    event_id        text,
    seen_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, etag)
);
CREATE INDEX inbound_objects_tenant ON inbound_objects (tenant_id, seen_at);
