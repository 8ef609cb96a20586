-- The tenant's latest config version and merged feed, as channels learnt them (insight
-- events carry neither): from tenant.configured and offers.merged, newest wins.
CREATE TABLE tenants (
    tenant_id       text        PRIMARY KEY,
    config_version  int,
    merged_key      text,
    merged_at       timestamptz
);

-- The audit: one row per (channel, insight or reallocation entry, action), written
-- 'pending' with the exact request before anything is sent, finished once with its outcome.
-- The row is what makes an action happen at most once (a redelivered insight finds it; a
-- copy handled at the same moment by another replica finds it leased and is retried later).
CREATE TABLE actions (
    tenant_id     text        NOT NULL,
    channel       text        NOT NULL,
    insight_id    text        NOT NULL,
    action        text        NOT NULL
                              CHECK (action IN ('pause', 'unpause', 'delist', 'reprice',
                                                'push', 'pull')),
    action_id     text        NOT NULL UNIQUE,
    sku           text        NOT NULL,
    plugin        text        NOT NULL,
    dry_run       boolean     NOT NULL,
    request       jsonb       NOT NULL,
    -- what the action sets (kept so a retry sends exactly the first attempt's change)
    set_quantity  int,
    set_price     numeric(14, 2),
    outcome       text        CHECK (outcome IN ('dry_run', 'succeeded', 'failed', 'deferred',
                                                 'timed_out')),
    answer        text,
    duration_ms   int         NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    status_after  text,
    price_after   numeric(14, 2),
    artifact_key  text,
    attempts      int         NOT NULL DEFAULT 0,
    -- the replica sending it holds it until then (released on a transient failure)
    leased_until  timestamptz,
    correlation_id text       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    PRIMARY KEY (tenant_id, channel, insight_id, action),
    CHECK ((outcome IS NULL) = (finished_at IS NULL))
);
CREATE INDEX actions_pending ON actions (tenant_id) WHERE outcome IS NULL;

-- eBay: revisions of one listing (sku) per UTC day, counted before each real update, so a
-- change that would pass the daily limit is deferred instead of sent.
CREATE TABLE ebay_revisions (
    tenant_id  text  NOT NULL,
    channel    text  NOT NULL,
    sku        text  NOT NULL,
    day        date  NOT NULL,
    revisions  int   NOT NULL CHECK (revisions >= 0),
    PRIMARY KEY (tenant_id, channel, sku, day)
);

-- Transactional outbox: channel.acted and reallocation.claim_requested, written with the
-- audit row that causes them, published after commit.
\include relay_shared.outbox
