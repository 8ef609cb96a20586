"""Which skus a daily evaluation must look at: one set-based query over every product of the
tenant that finds those whose rules' kinds differ from their open insights' kinds.

The kinds are the rules of :mod:`relay_insights.domain.rules` with the same cutoffs (given as
parameters, compared the same way); only the skus found are then evaluated in Python, which
decides the transitions and their details. A product whose kinds did not change has no
transition: an open insight keeps the detail it opened with.
"""

from __future__ import annotations

from datetime import datetime

from relay_insights.adapters.database import Connection

_CHANGED = """
WITH p AS (
    SELECT channel, sku,
        (status IN ('active', 'paused') AND quantity = 0) AS out_of_stock,
        (status = 'active' AND quantity > 0 AND listed_date <= $2
            AND (last_sold_at IS NULL OR last_sold_at <= $2)) AS slow,
        (quantity > 0 AND listed_date < $3) AS aged,
        ((status IN ('active', 'paused') AND quantity = 0)
            OR COALESCE(last_sold_at > $2, false)) AS wanting
    FROM products WHERE tenant_id = $1
), wanted AS (
    SELECT sku, count(*) FILTER (WHERE wanting) AS wanting FROM p GROUP BY sku
), held AS (
    SELECT p.channel, p.sku, array_remove(ARRAY[
        CASE WHEN p.aged THEN 'aged' END,
        CASE WHEN p.out_of_stock THEN 'out_of_stock' END,
        CASE WHEN (p.slow OR p.aged) AND w.wanting - p.wanting::int > 0
             THEN 'reallocation_candidate' END,
        CASE WHEN p.slow THEN 'slow_mover' END
    ], NULL) AS kinds
    FROM p JOIN wanted AS w USING (sku)
), opened AS (
    SELECT channel, sku, array_agg(kind ORDER BY kind COLLATE "C") AS kinds
    FROM insights WHERE tenant_id = $1 AND status = 'open' GROUP BY channel, sku
)
SELECT DISTINCT COALESCE(held.sku, opened.sku) AS sku
FROM held FULL JOIN opened USING (channel, sku)
WHERE COALESCE(held.kinds, '{}') IS DISTINCT FROM COALESCE(opened.kinds, '{}')
"""


async def changed_skus(
    conn: Connection, tenant_id: str, slow_cutoff: datetime, aged_cutoff: datetime
) -> tuple[list[str], int]:
    """The skus with a product whose kinds changed, and how many products the tenant has."""
    rows = await conn.fetch(_CHANGED, tenant_id, slow_cutoff, aged_cutoff)
    total = await conn.fetchval("SELECT count(*) FROM products WHERE tenant_id = $1", tenant_id)
    return [row["sku"] for row in rows], int(total or 0)
