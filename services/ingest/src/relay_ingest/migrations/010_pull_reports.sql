-- Each change of a pulled vendor's state is reported as vendor.pulled (written to the outbox in
-- the transaction that makes it), for the gateway's per-vendor pull status. report_seq orders a
-- vendor's reports: at least the previous one + 1 and at least the time in microseconds, so a
-- vendor removed and configured again goes on from a higher number.
ALTER TABLE vendor_pulls ADD COLUMN report_seq bigint NOT NULL DEFAULT 0;
