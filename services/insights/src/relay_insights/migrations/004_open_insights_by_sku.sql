-- An order's evaluation reads its skus' open insights sku by sku, by (tenant_id, sku). Led by
-- (tenant_id, channel), insights_open_once served such a probe only by reading every open
-- insight of the tenant, and on small or fresh statistics the planner chose it as readily as
-- insights_open_by_sku (seen in tests/insights/test_order_plans.py). Led by (tenant_id, sku)
-- it serves the probe itself, and insights_open_by_sku, its prefix, is dropped: one index
-- fewer to write per opened insight. Its uniqueness is the same set of columns.
DROP INDEX insights_open_once;
CREATE UNIQUE INDEX insights_open_once ON insights (tenant_id, sku, channel, kind)
    WHERE status = 'open';
DROP INDEX insights_open_by_sku;
