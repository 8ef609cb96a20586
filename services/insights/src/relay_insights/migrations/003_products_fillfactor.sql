-- Every merged feed updates each listed product's quantity (and title, price, updated_at),
-- none of them indexed: with half of each page left free the new row versions fit beside the
-- old ones (heap-only tuples), so neither index is written. A 1M-sku feed over 3 channels
-- (3M products, every quantity changed) updates in 9.7 s instead of 36.5 s, measured on the
-- embedded Postgres. New pages take twice the room; existing ones stay as they are.
ALTER TABLE products SET (fillfactor = 50);
