"""An order's statements read only its skus' products and open insights (on real Postgres),
planned as its transaction runs them: generic plans of prepared statements, whatever the
statistics say.

The skus are a condition of each index scan, so an order's cost does not grow with the
tenant's catalogue or its open insights: as ``sku IN (SELECT unnest(…))`` the products' read
was a semi-join, and as ``sku = ANY`` in the evaluation's full join the open insights were read
by the index sorted as the join wanted, by the tenant alone; either way, all of the tenant's
for each order.

The products table is given a catalogue's statistics first (:func:`catalogue_statistics`):
analysed while nearly empty, as the suite's other tests could leave it, a table of a page or
two is rightly read whole, and the plan would say so (the full suite failed that way once).
"""

from __future__ import annotations

import re

import asyncpg
import pytest

from relay_insights.adapters.changes import _DIFFERENCES, SkuScope, _query
from relay_insights.adapters.database import PRODUCTS_OF_SKUS
from tests.support.plans import generic_plan


async def _reads(
    pool: asyncpg.Pool, unique_id: str, query: str, types: str, args: str, table: str = "products"
) -> list[str]:
    """How the generic plan of ``query`` reads ``table``: ``Seq Scan``, or each index it
    scans with that scan's condition (an index scan or a bitmap's: whichever the statistics
    of the moment favour)."""
    lines = [
        line.removeprefix("->").strip()
        for line in await generic_plan(pool, f"plan_{unique_id}", query, types, args)
    ]
    reads = []
    for n, line in enumerate(lines):
        index = re.match(
            rf"(?:Index (?:Only )?Scan using ({table}_\w+) on {table}\b"
            rf"|Bitmap Index Scan on ({table}_\w+)\b)",
            line,
        )
        if line.startswith(f"Seq Scan on {table} "):
            reads.append("Seq Scan")
        elif index is not None:
            condition = lines[n + 1] if lines[n + 1 :] else ""
            reads.append(f"{index.group(1) or index.group(2)} {condition}")
    return reads


CATALOGUE = 5_000  # products of a tenant of its own: the index won at 5,000, not at 1,000


@pytest.fixture
async def catalogue_statistics(pool: asyncpg.Pool, unique_id: str) -> None:
    """A catalogue of :data:`CATALOGUE` products under a tenant of the test's own, analysed:
    the planner's statistics say the table holds at least that many rows."""
    await pool.execute(
        "INSERT INTO products (tenant_id, channel, sku, title, price, quantity, status,"
        " listed_date, updated_at) SELECT $1, 'amazon', 'SKU-' || n, 'a product', 10, 5,"
        " 'active', now(), now() FROM generate_series(1, $2) AS n",
        f"catalogue-{unique_id}",
        CATALOGUE,
    )
    await pool.execute("ANALYZE products")


@pytest.mark.usefixtures("catalogue_statistics")
async def test_a_batch_reads_the_listings_of_its_skus_by_the_index(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    reads = await _reads(pool, unique_id, PRODUCTS_OF_SKUS, "text, text[]", "'t', '{SKU-A,SKU-B}'")
    assert reads == ["products_by_sku Index Cond: ((tenant_id = $1) AND (sku = ANY ($2)))"]


@pytest.mark.usefixtures("catalogue_statistics")
async def test_an_orders_evaluation_reads_the_products_of_its_skus_by_the_index(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    query, _ = _query(_DIFFERENCES, SkuScope(["SKU-A", "SKU-B"]))
    types = "text, timestamptz, timestamptz, text[]"
    args = "'t', '2026-11-01T00:00:00Z', '2026-10-01T00:00:00Z', '{SKU-A,SKU-B}'"

    products = await _reads(pool, unique_id, query, types, args)
    insights = await _reads(pool, f"{unique_id}i", query, types, args, table="insights")

    assert products == ["products_by_sku Index Cond: ((tenant_id = $1) AND (sku = ANY ($4)))"]
    open_insights = [read for read in insights if not read.startswith("insights_pkey ")]
    assert open_insights == [  # (an announced insight's detail is read by its id)
        "insights_open_once Index Cond: ((tenant_id = $1) AND (sku = (unnest($4))))"
    ]
    # led by (tenant_id, sku): led by (tenant_id, channel), the same condition read the tenant
    definition = await pool.fetchval(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'insights_open_once'"
    )
    assert "ON insights.insights USING btree (tenant_id, sku, channel, kind)" in definition
