-- A shipment whose store maps to a name that is not a channel name is recorded as
-- 'invalid_channel' (and never published).
ALTER TABLE shipstation_shipments DROP CONSTRAINT IF EXISTS shipstation_shipments_outcome_check;
ALTER TABLE shipstation_shipments ADD CONSTRAINT shipstation_shipments_outcome_check
    CHECK (outcome IN ('emit', 'voided', 'unknown_store', 'invalid_channel', 'no_items'));
