-- The gateway's read model of insights (it cannot read the insights schema): fed by its
-- durable consumer of insight.generated. One row per insight, its latest status; the
-- reallocation list is the open reallocation_candidate rows (origin/target in detail).
CREATE TABLE channel_insights (
    tenant_id   text        NOT NULL,
    insight_id  text        NOT NULL,
    channel     text        NOT NULL,
    sku         text        NOT NULL,
    kind        text        NOT NULL,
    status      text        NOT NULL,
    since       timestamptz NOT NULL,
    detail      jsonb       NOT NULL DEFAULT '{}',
    event_id    text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, insight_id),
    CHECK (status IN ('open', 'resolved'))
);
CREATE INDEX channel_insights_listing
    ON channel_insights (tenant_id, status, kind, since DESC, insight_id DESC);
