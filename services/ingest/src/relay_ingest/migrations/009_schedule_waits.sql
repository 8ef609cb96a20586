-- Scheduled runs that wait for vendors (schedule.wait_for_vendors, max_wait_min): once a cron
-- time is due, the run starts as soon as every listed vendor has a fresh feed, or at the latest
-- max_wait_min after the cron time. The wait's state is this row (still due: next_due_at has
-- not moved), so a restart or another replica carries on the same wait. waiting_for/checked_at:
-- the vendors still without a fresh feed at the last check, and when that was.
ALTER TABLE run_schedules
    ADD COLUMN wait_for_vendors text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN max_wait_min     int         NOT NULL DEFAULT 0,
    ADD COLUMN waiting_for      text[],
    ADD COLUMN checked_at       timestamptz;

-- Why each scheduled run started (cron: no wait; vendors_fresh: every listed vendor had a
-- fresh feed; max_wait: the wait ran out) and which listed vendors had none at that moment.
ALTER TABLE scheduled_runs
    ADD COLUMN started_by      text   NOT NULL DEFAULT 'cron',
    ADD COLUMN missing_vendors text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT scheduled_runs_started_by CHECK (started_by IN ('cron', 'vendors_fresh', 'max_wait'));

-- A vendor's feed is fresh when it is not the one the tenant's latest run pinned for it.
CREATE INDEX run_feeds_latest_pin ON run_feeds (tenant_id, vendor_id, pinned_at DESC);
