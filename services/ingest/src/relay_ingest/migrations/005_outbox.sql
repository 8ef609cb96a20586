-- Transactional outbox (relay_shared.outbox): events written with the change that caused them,
-- published after commit (and by the periodic drain); the event id is the Nats-Msg-Id, so a
-- re-publish is dropped. The same shape in every service schema.
\include relay_shared.outbox

-- A run's feed.received events are written to the outbox with its pinned feeds (one
-- transaction); nothing reads run_feeds.announced_at any more. A feed pinned but not yet
-- announced before this migration still has its run.requested unacked: the redelivery writes
-- its event to the outbox.
ALTER TABLE run_feeds DROP COLUMN announced_at;

-- A shipment's order.shipped is written to the outbox in the transaction that records its
-- decision, which sets announced_at: an announced shipment is final.
COMMENT ON COLUMN shipstation_shipments.announced_at IS
    'when the shipment''s order.shipped was written to the outbox; set = final';
