-- The gateway's read models of what insights recorded (it cannot read the insights schema).

-- Order lines, fed by order.recorded: one row per (order, sku); a re-sent event changes
-- nothing. ``line_id`` orders a page's ties and names the line in a cursor.
CREATE TABLE recorded_order_lines (
    tenant_id   text        NOT NULL,
    order_id    text        NOT NULL,
    sku         text        NOT NULL,
    channel     text        NOT NULL,
    quantity    int         NOT NULL,
    shipped_at  timestamptz NOT NULL,
    problem     text,
    event_id    text        NOT NULL,
    line_id     text        GENERATED ALWAYS AS (md5(order_id || E'\x1f' || sku)) STORED,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id, sku)
);
CREATE INDEX recorded_order_lines_listing
    ON recorded_order_lines (tenant_id, shipped_at DESC, line_id DESC);

-- The reallocation list, fed by reallocation.changed: one row per entry, its latest state
-- (states only move forward: open → claimed → done | withdrawn).
CREATE TABLE reallocation_entries (
    tenant_id   text        NOT NULL,
    entry_id    text        NOT NULL,
    origin      text        NOT NULL,
    target      text,
    sku         text        NOT NULL,
    quantity    int         NOT NULL,
    reason      text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('open', 'claimed', 'done', 'withdrawn')),
    claimed_by  text,
    changed_at  timestamptz NOT NULL,
    event_id    text        NOT NULL,
    PRIMARY KEY (tenant_id, entry_id)
);
CREATE INDEX reallocation_entries_listing
    ON reallocation_entries (tenant_id, changed_at DESC, entry_id DESC);
