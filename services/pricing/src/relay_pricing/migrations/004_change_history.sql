-- Change history (issue 16 item 4): each successful merge's full feed, and per SKU the runs
-- that added or removed it or changed its price or quantity. Written before the merge is
-- recorded (idempotently: a replay writes the same rows); read only joined with a
-- succeeded row of merges.

-- Where each merge's full merged feed is (merged_inventory.csv, or full_inventory.csv when
-- the main artifact was a delta) and whether its main artifact was a full snapshot. A merge
-- recorded before this table has no row: its feed is its merged_inventory.csv, a snapshot.
CREATE TABLE run_feeds (
    scope_id        text        PRIMARY KEY,
    tenant_id       text        NOT NULL,
    feed_key        text        NOT NULL,
    snapshot        boolean     NOT NULL,
    previous_scope  text,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);

-- Change-only: one row per (SKU, run) that added or removed the SKU or changed its price
-- (integer cents) or quantity; null on the side that has none and for the one of the two
-- that did not change. Rows older than 400 days (by as_of) are purged on each write.
CREATE TABLE sku_changes (
    tenant_id       text        NOT NULL,
    sku             text        NOT NULL,
    scope_id        text        NOT NULL,
    as_of           timestamptz NOT NULL,
    change          text        NOT NULL CHECK (change IN ('added', 'removed', 'changed')),
    price_old       bigint,
    price_new       bigint,
    quantity_old    bigint,
    quantity_new    bigint,
    PRIMARY KEY (tenant_id, sku, scope_id)
);
CREATE INDEX sku_changes_by_age ON sku_changes (tenant_id, as_of);
