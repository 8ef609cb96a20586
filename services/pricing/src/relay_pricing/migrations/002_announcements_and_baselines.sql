-- The event each merge announces, stored with its outcome in the same row: written after the
-- run's artifacts and before the publish, so a replay re-publishes exactly this event (same
-- Nats-Msg-Id) instead of deciding again. announced_at is set once the bus stored it.
ALTER TABLE merges ADD COLUMN announcement_subject text;
ALTER TABLE merges ADD COLUMN announcement text;
ALTER TABLE merges ADD COLUMN announced_at timestamptz;

-- What the drift guard remembers of each vendor's last successfully merged feed (promoted
-- together with latest_feeds, only on success).
CREATE TABLE feed_baselines (
    tenant_id       text        NOT NULL,
    vendor_id       text        NOT NULL,
    scope_id        text        NOT NULL,
    accepted        int         NOT NULL,
    skus            text[]      NOT NULL,
    in_stock_skus   text[]      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vendor_id)
);
