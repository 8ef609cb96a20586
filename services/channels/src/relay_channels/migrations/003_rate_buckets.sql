-- A marketplace's request rate per account (Amazon: 5/s, burst 10 per selling partner),
-- shared by every channels replica: a token bucket per key, taken from atomically by one
-- upsert (relay_channels.adapters.rate_limit). ``tokens`` goes below zero while callers wait
-- for their reserved turn.
CREATE TABLE rate_buckets (
    bucket  text              PRIMARY KEY,
    tokens  double precision  NOT NULL,
    stamp   timestamptz       NOT NULL
);
