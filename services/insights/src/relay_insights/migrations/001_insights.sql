-- The tenant's latest applied merged feed: its config version serves the order events,
-- which carry none; an older offers.merged arriving late does not roll quantities back.
CREATE TABLE tenants (
    tenant_id       text        PRIMARY KEY,
    config_version  int         NOT NULL,
    run_id          text        NOT NULL,
    merged_at       timestamptz NOT NULL
);

-- Events whose effect is stored (a redelivery changes nothing).
CREATE TABLE processed_events (
    tenant_id     text        NOT NULL,
    event_id      text        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);

CREATE TABLE products (
    tenant_id     text        NOT NULL,
    channel       text        NOT NULL,
    sku           text        NOT NULL,
    title         text,
    price         numeric(14, 2),
    quantity      int         NOT NULL CHECK (quantity >= 0),
    status        text        NOT NULL DEFAULT 'active'
                              CHECK (status IN ('active', 'paused', 'delisted')),
    listed_date   timestamptz NOT NULL,
    last_sold_at  timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, channel, sku)
);
CREATE INDEX products_by_sku ON products (tenant_id, sku);

-- One line per (order_id, sku): a re-sent order inserts nothing and subtracts nothing.
CREATE TABLE order_lines (
    tenant_id    text        NOT NULL,
    order_id     text        NOT NULL,
    sku          text        NOT NULL,
    channel      text        NOT NULL,
    quantity     int         NOT NULL CHECK (quantity >= 0),
    shipped_at   timestamptz NOT NULL,
    problem      text        CHECK (problem IN ('unknown_sku')),
    event_id     text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id, sku)
);
CREATE INDEX order_lines_problems ON order_lines (tenant_id, recorded_at) WHERE problem IS NOT NULL;

CREATE TABLE insights (
    insight_id   text        PRIMARY KEY,
    tenant_id    text        NOT NULL,
    channel      text        NOT NULL,
    sku          text        NOT NULL,
    kind         text        NOT NULL
                             CHECK (kind IN ('out_of_stock', 'slow_mover', 'aged',
                                             'reallocation_candidate')),
    status       text        NOT NULL CHECK (status IN ('open', 'resolved')),
    opened_at    timestamptz NOT NULL,
    resolved_at  timestamptz,
    detail       jsonb       NOT NULL,
    transitions  int         NOT NULL CHECK (transitions >= 1),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE UNIQUE INDEX insights_open_once ON insights (tenant_id, channel, sku, kind)
    WHERE status = 'open';
CREATE INDEX insights_open_by_sku ON insights (tenant_id, sku) WHERE status = 'open';
CREATE INDEX insights_resolved ON insights (tenant_id, resolved_at) WHERE status = 'resolved';

-- Transactional outbox: events written with the change that caused them, published after
-- commit (and on start); the event id is the Nats-Msg-Id, so a re-publish is dropped.
\include relay_shared.outbox
