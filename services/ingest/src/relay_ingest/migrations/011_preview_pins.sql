-- A config preview pins the latest feeds like a run, but it is not a run of the tenant's
-- feeds: a scheduled run waiting for fresh feeds does not count a preview's pins.
ALTER TABLE run_feeds ADD COLUMN preview boolean NOT NULL DEFAULT false;
