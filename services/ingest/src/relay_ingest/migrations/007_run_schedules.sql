-- Scheduled runs (the tenant config's schedule.runs, a cron in the tenant's timezone), from
-- tenant.configured. The schedule's truth is here, not in any replica's memory: next_due_at is
-- the next cron time, and a replica starts a due run by claiming its row (FOR UPDATE SKIP
-- LOCKED), recording (tenant, due time) once and writing its run.requested to the outbox in the
-- same transaction, then moving next_due_at on.
CREATE TABLE run_schedules (
    tenant_id       text        PRIMARY KEY,
    config_version  int         NOT NULL,
    cron            text        NOT NULL,
    timezone        text        NOT NULL,
    next_due_at     timestamptz NOT NULL
);

CREATE TABLE scheduled_runs (
    tenant_id   text        NOT NULL,
    due_at      timestamptz NOT NULL,
    run_id      text        NOT NULL UNIQUE,
    started_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, due_at)
);
