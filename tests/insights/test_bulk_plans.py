"""An evaluation over many skus, or over a whole tenant, is planned without nested loops
(:func:`relay_insights.adapters.changes.bulk_plans`): the planner's statistics know nothing of
a tenant whose first feed the same transaction has just inserted, and expect one product. It
then looped over the staged skus for each product (the time grows with the square of the
feed: 33 s to count 40,000 products, against 0.04 s). On real Postgres, with the statistics
as they stand when a new tenant's first feed arrives."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_insights.adapters import changes
from relay_insights.adapters.database import Connection
from relay_shared.database import apply_migrations, create_pool

pytestmark = pytest.mark.stack
NOW = datetime(2026, 3, 1, tzinfo=UTC)
CHANNELS = ("amazon", "ebay")
CUTOFFS = (NOW - timedelta(days=30), NOW - timedelta(days=180))
COUNT = "SELECT count(*) FROM products WHERE tenant_id = $1 {only}"


@pytest.fixture
async def own_schema(stack: StackEndpoints) -> AsyncIterator[asyncpg.Pool]:
    """Insights' tables in a schema of this test's own, so the statistics of ``products`` are
    those the test makes, whatever other tests left in the shared schema."""
    schema = f"insights_plans_{uuid.uuid4().hex[:8]}"
    pool = await create_pool(stack.database_url, schema, max_size=2)
    try:
        await apply_migrations(pool, schema, "relay_insights.migrations")
        yield pool
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await pool.close()


def _tenant() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


async def _insert(conn: Connection, tenant: str, skus: list[str]) -> None:
    listed = NOW - timedelta(days=400)
    await conn.copy_records_to_table(
        "products",
        columns=["tenant_id", "channel", "sku", "quantity", "listed_date", "updated_at"],
        records=[
            (tenant, c, sku, n % 3, listed, NOW) for n, sku in enumerate(skus) for c in CHANNELS
        ],
    )


async def _loops_over_rows(conn: Connection, query: str, *args: object) -> int:
    """How many nested loops the query's plan has, besides those over the four kinds of the
    rules (``CROSS JOIN LATERAL (VALUES …)``: a few constant rows per product, linear)."""
    plan = "\n".join(row[0] for row in await conn.fetch("EXPLAIN " + query, *args))
    return plan.count("Nested Loop") - plan.count('Values Scan on "*VALUES*"')


async def test_a_new_tenants_first_feed_is_counted_and_evaluated_by_hash_joins(
    own_schema: asyncpg.Pool,
) -> None:
    skus = [f"SKU-{n:06d}" for n in range(changes.STAGE_SKUS_FROM)]
    async with own_schema.acquire() as conn:
        for known in (_tenant(), _tenant()):
            await _insert(conn, known, skus)
        await conn.execute("ANALYZE products")
        tenant = _tenant()
        async with conn.transaction():
            await _insert(conn, tenant, skus)  # the new tenant's first feed: no statistics
            scope = await changes.sku_scope(conn, skus)
            assert scope.table == "pg_temp.evaluated_skus"
            count = COUNT.format(only=scope.condition(2))
            differences, _ = changes._query(changes._DIFFERENCES, scope)
            # what the planner picks on its own (the two known tenants are all it knows of)
            assert await _loops_over_rows(conn, count, tenant) == 1
            assert await _loops_over_rows(conn, differences, tenant, *CUTOFFS) >= 1
            async with changes.bulk_plans(conn, scope):
                assert await _loops_over_rows(conn, count, tenant) == 0
                assert await _loops_over_rows(conn, differences, tenant, *CUTOFFS) == 0
            assert await conn.fetchval("SELECT current_setting('enable_nestloop')") == "on"
            assert await changes.product_count(conn, tenant, scope) == 2 * len(skus)
            found = [
                d
                for batch in [
                    b async for b in changes.differences(conn, tenant, CUTOFFS, scope, 5000)
                ]
                for d in batch
            ]
            # every third product is out of stock; the others are aged (listed 400 days ago,
            # never sold) and slow movers, not reallocation candidates (no channel wants them)
            out, rest = -(-len(skus) // 3) * 2, (len(skus) - -(-len(skus) // 3)) * 2
            assert len(found) == out + 2 * rest
            assert await conn.fetchval("SELECT current_setting('enable_nestloop')") == "on"


async def test_a_few_skus_keep_their_index_lookups(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        scope = await changes.sku_scope(conn, ["SKU-000001", "SKU-000002"])
        assert scope.skus == ["SKU-000001", "SKU-000002"]
        async with changes.bulk_plans(conn, scope):
            assert await conn.fetchval("SELECT current_setting('enable_nestloop')") == "on"
        async with changes.bulk_plans(conn, changes.EVERY_SKU):
            assert await conn.fetchval("SELECT current_setting('enable_nestloop')") == "off"
        assert await conn.fetchval("SELECT current_setting('enable_nestloop')") == "on"
