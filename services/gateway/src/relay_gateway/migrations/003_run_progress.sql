-- Run progress: when a run last moved (the stuck-run sweep fails runs that stop moving), and
-- every pipeline event the gateway saw for a run: how often (attempts) and when (timings).
ALTER TABLE runs ADD COLUMN progress_at timestamptz;
CREATE INDEX runs_under_way ON runs (progress_at)
    WHERE status IN ('QUEUED', 'RUNNING') AND published_at IS NOT NULL;

CREATE TABLE run_stage_events (
    run_id         text        NOT NULL REFERENCES runs (run_id),
    event_id       text        NOT NULL,
    stage          text        NOT NULL,
    seen           int         NOT NULL DEFAULT 1,
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    PRIMARY KEY (run_id, event_id)
);
