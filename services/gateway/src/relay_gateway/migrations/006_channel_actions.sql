-- The gateway's read model of the channels' audit (it cannot read the channels schema): fed
-- by channel.acted, one row per action, written once (a repeated event changes nothing).
CREATE TABLE channel_actions (
    tenant_id     text        NOT NULL,
    action_id     text        NOT NULL,
    insight_id    text        NOT NULL,
    channel       text        NOT NULL,
    sku           text        NOT NULL,
    action        text        NOT NULL,
    outcome       text        NOT NULL,
    dry_run       boolean     NOT NULL,
    request       jsonb       NOT NULL,
    answer        text,
    duration_ms   int         NOT NULL,
    status_after  text,
    price_after   numeric(14, 2),
    artifact_key  text,
    acted_at      timestamptz NOT NULL,
    event_id      text        NOT NULL,
    PRIMARY KEY (tenant_id, action_id)
);
CREATE INDEX channel_actions_listing
    ON channel_actions (tenant_id, channel, acted_at DESC, action_id DESC);
