-- When each pinned feed's feed.received was stored on the bus. A redelivered run.requested
-- re-publishes only the feeds not yet announced (and those with the same Nats-Msg-Id, so the
-- server drops a repeat inside the duplicate window).
ALTER TABLE run_feeds ADD COLUMN announced_at timestamptz;
