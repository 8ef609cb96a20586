-- POST /v1/runs {"full": true}: the run writes a full snapshot even in output.mode delta
-- (carried to pricing on run.requested, like force).
ALTER TABLE runs ADD COLUMN full_snapshot boolean NOT NULL DEFAULT false;

-- The SKU history read model, fed by offers.merged (its changes.history_key: the run's
-- sku_history.csv; pricing owns the history in its schema, this copy only serves
-- GET /v1/tenants/{id}/skus/{sku}/history). One row per (SKU, run) that added or removed the
-- SKU or changed its price (integer cents) or quantity; a re-sent event rewrites the same
-- rows. Rows older than 400 days (by as_of) are purged on each write.
CREATE TABLE sku_history (
    tenant_id       text        NOT NULL,
    sku             text        NOT NULL,
    run_id          text        NOT NULL,
    as_of           timestamptz NOT NULL,
    change          text        NOT NULL CHECK (change IN ('added', 'removed', 'changed')),
    price_old       bigint,
    price_new       bigint,
    quantity_old    bigint,
    quantity_new    bigint,
    PRIMARY KEY (tenant_id, sku, run_id)
);
CREATE INDEX sku_history_by_age ON sku_history (tenant_id, as_of);
