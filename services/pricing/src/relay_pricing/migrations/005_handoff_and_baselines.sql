-- The Parquet hand-off from normalize, and drift baselines stored as Parquet.

-- Normalize hands pricing each vendor's rows as Parquet beside the normalized CSV
-- (rows.normalized handoff_key). A result recorded before this column, or from an event
-- without the key, has none: pricing then reads the normalized CSV.
ALTER TABLE vendor_results ADD COLUMN handoff_key text;
ALTER TABLE latest_feeds ADD COLUMN handoff_key text;

-- A drift baseline's SKU sets as one Parquet blob (relay_pricing.adapters.baseline_codec):
-- bound as text[], hundreds of thousands of SKUs took seconds of every merge to encode. A
-- baseline written before keeps its arrays (and no blob); a new one has the blob only.
ALTER TABLE feed_baselines ADD COLUMN skus_parquet bytea;
ALTER TABLE feed_baselines ALTER COLUMN skus DROP NOT NULL;
ALTER TABLE feed_baselines ALTER COLUMN in_stock_skus DROP NOT NULL;
