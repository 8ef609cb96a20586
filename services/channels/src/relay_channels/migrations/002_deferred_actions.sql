-- A deferred action (an eBay reprice past the listing's daily revisions) is not final: it
-- waits until not_before (the next UTC day), when the channels service's sweep sends it
-- again and finishes the same audit row with the new outcome.
ALTER TABLE actions ADD COLUMN not_before timestamptz;
CREATE INDEX actions_deferred ON actions (not_before) WHERE outcome = 'deferred';
