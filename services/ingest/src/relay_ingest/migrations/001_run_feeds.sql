-- The inbound file pinned for each vendor of a run. Pinning is the run's one decision about
-- its inputs: a redelivered run.requested finds these rows and re-emits the same events.
CREATE TABLE run_feeds (
    tenant_id   text        NOT NULL,
    run_id      text        NOT NULL,
    vendor_id   text        NOT NULL,
    key         text,
    size        bigint,
    pinned_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, vendor_id)
);
