-- Transactional outbox (relay_shared.outbox): events written with the change that caused them,
-- published after commit (and by the periodic drain); the event id is the Nats-Msg-Id, so a
-- re-publish is dropped. The same shape in every service schema.
\include relay_shared.outbox

-- A merge's event is now written to the outbox with its outcome (one transaction), which sets
-- announced_at. An event recorded but not yet published before this migration moves to the
-- outbox (same event id and body), in the order the merges were recorded; then the columns
-- that held it go.
INSERT INTO outbox (event_id, subject, payload)
SELECT announcement::jsonb ->> 'event_id', announcement_subject, announcement
FROM merges
WHERE announcement IS NOT NULL AND announced_at IS NULL
ORDER BY merged_at, scope_id
ON CONFLICT (event_id) DO NOTHING;
UPDATE merges SET announced_at = now() WHERE announcement IS NOT NULL AND announced_at IS NULL;
ALTER TABLE merges DROP COLUMN announcement_subject;
ALTER TABLE merges DROP COLUMN announcement;
COMMENT ON COLUMN merges.announced_at IS
    'when the merge''s event (offers.merged or run.failed) was written to the outbox';
