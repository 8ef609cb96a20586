-- ShipStation shipments ingest has seen, one row per (tenant, shipment): what was decided
-- (emit, or why not) and when its order.shipped was stored on the bus. An announced row is
-- final, so a re-sent notification (or an overlapping batch) never emits a shipment twice.
-- Only ids and the outcome are kept: never names, addresses or other customer data.
CREATE TABLE shipstation_shipments (
    tenant_id      text        NOT NULL,
    shipment_id    text        NOT NULL,
    order_id       text        NOT NULL,
    store_id       text,
    outcome        text        NOT NULL,
    event_id       text        NOT NULL,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    announced_at   timestamptz,
    PRIMARY KEY (tenant_id, shipment_id),
    CHECK (outcome IN ('emit', 'voided', 'unknown_store', 'no_items'))
);
