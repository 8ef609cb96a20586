"""A batch of orders reads what its orders share once (on real Postgres): the listings of
every sku in the batch, and the day's announced counts; each order then costs one statement
per step, and sells and caps exactly as recorded alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from asyncpg.connection import LoggedQuery

from relay_insights.adapters.database import InsightsDatabase, TenantUnit
from relay_insights.handlers import TenantRules
from relay_shared.channel_config import InsightsConfig
from relay_shared.events import InsightGenerated, OrderItem
from tests.insights.test_order_batches import (
    SHIPPED,
    Published,
    handlers_on,
    list_skus,
    order,
)


class StatementsSeen(InsightsDatabase):
    """The database, noting the statements its tenant units run (their first words)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.statements: list[str] = []

    @asynccontextmanager
    async def tenant(
        self, tenant_id: str, *, generic_plans: bool = False
    ) -> AsyncIterator[TenantUnit]:
        async with super().tenant(tenant_id, generic_plans=generic_plans) as unit:
            unit.conn.add_query_logger(self._note)
            try:
                yield unit
            finally:
                unit.conn.remove_query_logger(self._note)

    def _note(self, record: LoggedQuery) -> None:
        if not any(mark in record.query for mark in _ASYNCPG_OWN):
            self.statements.append(" ".join(record.query.split()[:3]))


#: asyncpg's own statements: it looks up the array types' codecs once per connection
_ASYNCPG_OWN = ("'jit'", "typeinfo_tree")


async def test_a_batch_reads_listings_and_counts_once_and_each_order_four_statements(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    tenant = f"statements-{unique_id}"
    await list_skus(pool, tenant, {"SKU-A": 10})
    database = StatementsSeen(pool)
    handlers = handlers_on(pool, Published(), order_batch_size=100)
    handlers.database = database

    await asyncio.gather(*(handlers.on_order_shipped(order(tenant, n)) for n in range(1, 4)))

    per_order = [
        "INSERT INTO order_lines",  # both lines, one statement
        "INSERT INTO outbox",  # order.recorded
        "INSERT INTO products",  # SKU-A sold
        "WITH p AS",  # the evaluation's differences (nothing opens: no outbox statement)
    ]
    assert (
        database.statements
        == [
            "SELECT channel, sku,",  # the listings of the batch's skus
            *per_order[:3],
            "SELECT channel, sent,",  # the day's announced counts, read by the first evaluation
            per_order[3],
            *per_order,
            *per_order,
        ]
    )
    row = await pool.fetchrow(
        "SELECT quantity, last_sold_at FROM products WHERE tenant_id = $1 AND sku = 'SKU-A'",
        tenant,
    )
    assert row is not None
    assert (row["quantity"], row["last_sold_at"]) == (7, SHIPPED)


async def test_a_batchs_orders_share_the_days_cap_as_each_saved_it(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    """Three orders of one batch each sell a sku out: the cap of one a day announces the
    first order's insight and holds the other two, as three orders recorded apart would."""
    tenant = f"cap-{unique_id}"
    await list_skus(pool, tenant, {"SKU-A": 1, "SKU-B": 1, "SKU-C": 1})
    bus = Published()
    handlers = handlers_on(pool, bus, order_batch_size=100)
    capped = TenantRules(InsightsConfig(max_new_per_channel_per_day=1), "UTC", None)

    async def rules(tenant_id: str, version: int | None = None) -> TenantRules:
        return capped

    handlers.rules = rules  # type: ignore[method-assign]
    orders = [
        order(tenant, n, items=[OrderItem(sku=sku, quantity=1)])
        for n, sku in enumerate(["SKU-A", "SKU-B", "SKU-C"], 1)
    ]

    await asyncio.gather(*(handlers.on_order_shipped(o) for o in orders))

    insights = await pool.fetch(
        "SELECT sku, kind, announced, xmin::text AS tx FROM insights WHERE tenant_id = $1"
        " ORDER BY sku",
        tenant,
    )
    assert [(r["sku"], r["kind"], r["announced"]) for r in insights] == [
        ("SKU-A", "out_of_stock", True),
        ("SKU-B", "out_of_stock", False),
        ("SKU-C", "out_of_stock", False),
    ]
    assert len({r["tx"] for r in insights}) == 1  # one batch
    counts = await pool.fetch(
        "SELECT channel, sent, held FROM daily_announcements WHERE tenant_id = $1", tenant
    )
    assert [tuple(r) for r in counts] == [("ebay", 1, 2)]
    announced = [e for e in bus.events if isinstance(e, InsightGenerated)]
    assert [(e.correlation_id, e.sku, e.kind, e.detail.get("count")) for e in announced] == [
        (f"corr-{tenant}-1", "SKU-A", "out_of_stock", None),
        (f"corr-{tenant}-2", "*", "summary", 1),  # the day's held insights so far
        (f"corr-{tenant}-3", "*", "summary", 2),
    ]
