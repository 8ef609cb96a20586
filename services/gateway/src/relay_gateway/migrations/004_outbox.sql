-- Transactional outbox (relay_shared.outbox): events written with the change that caused them,
-- published after commit (and by the periodic drain); the event id is the Nats-Msg-Id, so a
-- re-publish is dropped. The same shape in every service schema.
\include relay_shared.outbox

-- runs.published_at now means dispatched: set in the transaction that writes the run's
-- run.requested into the outbox (the runs table is no longer an outbox of its own).
COMMENT ON COLUMN runs.published_at IS
    'when the run was dispatched (its run.requested written to the outbox); NULL = waiting';
