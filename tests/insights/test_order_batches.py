"""Orders of one tenant handled at the same time share one transaction (on real Postgres):
each is recorded and sold exactly as alone, and one that fails fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import structlog
import structlog.testing
from asyncpg.connection import LoggedQuery

from relay_insights.adapters.database import InsightsDatabase, TenantUnit
from relay_insights.domain.products import Product
from relay_insights.evaluation import Evaluation, evaluate
from relay_insights.handlers import InsightsHandlers
from relay_shared.channel_config import InsightsConfig
from relay_shared.events import (
    Event,
    InsightGenerated,
    OrderItem,
    OrderRecorded,
    OrderShipped,
)
from relay_shared.outbox import Outbox
from tests.support.polling import wait_until

SHIPPED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LISTED = datetime(2026, 10, 1, tzinfo=UTC)
TOO_MANY = 3_000_000_000  # past Postgres' int: this order's insert fails


class Published:
    """The bus as the outbox sees it: every event published, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> bool:
        self.events.append(event)
        return True

    def recorded(self, tenant_id: str) -> dict[str, list[tuple[str, int]]]:
        return {
            e.order_id: [(line.sku, line.quantity) for line in e.lines]
            for e in self.events
            if isinstance(e, OrderRecorded) and e.tenant_id == tenant_id
        }


def handlers_on(pool: asyncpg.Pool, bus: Published, order_batch_size: int) -> InsightsHandlers:
    """Orders of a tenant without a config need neither the bucket nor its configs."""
    unused = cast(Any, None)
    return InsightsHandlers(
        store=unused,
        configs=unused,
        database=InsightsDatabase(pool),
        outbox=Outbox(pool),
        bus=bus,
        order_batch_size=order_batch_size,
    )


def order(
    tenant_id: str, number: int, quantity: int = 1, items: list[OrderItem] | None = None
) -> OrderShipped:
    """Order ``number`` on ebay: ``quantity`` of SKU-A and one unlisted SKU-Z, unless ``items``."""
    if items is None:
        items = [OrderItem(sku="SKU-A", quantity=quantity), OrderItem(sku="SKU-Z", quantity=1)]
    return OrderShipped(
        event_id=f"order.shipped:{tenant_id}:{number}",
        occurred_at=SHIPPED,
        tenant_id=tenant_id,
        correlation_id=f"corr-{tenant_id}-{number}",
        order_id=f"O-{number}",
        channel="ebay",
        status="shipped",
        shipped_at=SHIPPED,
        items=items,
    )


async def list_skus(pool: asyncpg.Pool, tenant_id: str, quantities: dict[str, int]) -> None:
    """The skus listed on ebay since LISTED, with these quantities."""
    async with InsightsDatabase(pool).tenant(tenant_id) as unit:
        products = [
            Product("ebay", sku, "Widget", None, quantity, "active", LISTED, None)
            for sku, quantity in quantities.items()
        ]
        await unit.upsert_products(products, LISTED)


async def list_sku_a(pool: asyncpg.Pool, tenant_id: str, quantity: int) -> None:
    await list_skus(pool, tenant_id, {"SKU-A": quantity})


async def lines_by_transaction(pool: asyncpg.Pool, tenant_id: str) -> list[list[str]]:
    """The tenant's recorded orders, grouped by the transaction that inserted them."""
    rows = await pool.fetch(
        "SELECT xmin::text AS tx, array_agg(DISTINCT order_id ORDER BY order_id) AS orders"
        " FROM order_lines WHERE tenant_id = $1 GROUP BY xmin::text ORDER BY 2",
        tenant_id,
    )
    return [list(row["orders"]) for row in rows]


async def quantity_of_sku_a(pool: asyncpg.Pool, tenant_id: str) -> tuple[int, datetime | None]:
    row = await pool.fetchrow(
        "SELECT quantity, last_sold_at FROM products WHERE tenant_id = $1 AND sku = 'SKU-A'",
        tenant_id,
    )
    assert row is not None
    return row["quantity"], row["last_sold_at"]


async def test_orders_waiting_together_share_one_transaction(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    tenant = f"batch-{unique_id}"
    await list_sku_a(pool, tenant, 10)
    bus = Published()
    handlers = handlers_on(pool, bus, order_batch_size=100)

    # All five wait before the first batch starts: one transaction.
    await asyncio.gather(*(handlers.on_order_shipped(order(tenant, n, n)) for n in range(1, 6)))

    assert await lines_by_transaction(pool, tenant) == [["O-1", "O-2", "O-3", "O-4", "O-5"]]
    assert await quantity_of_sku_a(pool, tenant) == (0, SHIPPED)  # 10 - (1+2+3+4), then 0
    assert bus.recorded(tenant) == {f"O-{n}": [("SKU-A", n), ("SKU-Z", 1)] for n in range(1, 6)}
    published = [e for e in bus.events if e.tenant_id == tenant]
    out_of_stock = [(e.kind, e.sku, e.status) for e in published if isinstance(e, InsightGenerated)]
    assert out_of_stock == [("out_of_stock", "SKU-A", "open")]
    assert len(published) == 6
    # Delivered again (a redelivery): nothing recorded, sold or announced twice.
    await asyncio.gather(*(handlers.on_order_shipped(order(tenant, n, n)) for n in range(1, 6)))
    assert await quantity_of_sku_a(pool, tenant) == (0, SHIPPED)
    assert [e for e in bus.events if e.tenant_id == tenant] == published


async def test_a_batch_holds_at_most_order_batch_size_orders(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    tenant = f"batch-{unique_id}"
    handlers = handlers_on(pool, Published(), order_batch_size=2)

    await asyncio.gather(*(handlers.on_order_shipped(order(tenant, n)) for n in range(1, 6)))

    assert await lines_by_transaction(pool, tenant) == [["O-1", "O-2"], ["O-3", "O-4"], ["O-5"]]


async def test_an_order_that_fails_fails_alone_and_the_others_are_recorded(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    tenant = f"batch-{unique_id}"
    await list_sku_a(pool, tenant, 10)
    bus = Published()
    handlers = handlers_on(pool, bus, order_batch_size=100)
    orders = [order(tenant, 1), order(tenant, 2), order(tenant, 3, TOO_MANY), order(tenant, 4)]

    outcomes = await asyncio.gather(
        *(handlers.on_order_shipped(o) for o in orders), return_exceptions=True
    )

    assert [type(o) for o in outcomes[:2]] == [type(None), type(None)]
    assert isinstance(outcomes[2], asyncpg.DataError)
    assert str(outcomes[2]) == (
        "invalid input for query argument $6: [3000000000, 1] (value out of int32 range)"
    )
    assert outcomes[3] is None
    # The batch of four failed whole (nothing of it kept), then each was recorded alone.
    assert await lines_by_transaction(pool, tenant) == [["O-1"], ["O-2"], ["O-4"]]
    assert await quantity_of_sku_a(pool, tenant) == (7, SHIPPED)
    assert sorted(bus.recorded(tenant)) == ["O-1", "O-2", "O-4"]


async def test_orders_of_different_tenants_never_share_a_transaction(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    names = [f"batch-{unique_id}-{t}" for t in range(2)]
    handlers = handlers_on(pool, Published(), order_batch_size=100)

    await asyncio.gather(
        *(handlers.on_order_shipped(order(name, n)) for n in range(1, 4) for name in names)
    )

    transactions = []
    for name in names:
        assert await lines_by_transaction(pool, name) == [["O-1", "O-2", "O-3"]]
        transactions.append(
            set(
                await pool.fetchval(
                    "SELECT array_agg(DISTINCT xmin::text) FROM order_lines WHERE tenant_id = $1",
                    name,
                )
            )
        )
    assert len(transactions[0]) == len(transactions[1]) == 1
    assert not transactions[0] & transactions[1]


async def test_each_order_of_a_batch_logs_with_its_own_message_ids(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    """The batch runs in no message's context; each order's work runs in its own message's
    (its bound log ids, its span), not in the first one's."""
    tenant = f"batch-{unique_id}"
    handlers = handlers_on(pool, Published(), order_batch_size=100)

    async def consumed(number: int) -> None:  # as EventConsumer binds a message's ids
        with structlog.contextvars.bound_contextvars(event_id=f"message-{number}"):
            await handlers.on_order_shipped(order(tenant, number))

    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        await asyncio.gather(*(consumed(n) for n in range(1, 4)))

    assert await lines_by_transaction(pool, tenant) == [["O-1", "O-2", "O-3"]]
    assert [
        (entry["order_id"], entry["sku"], entry.get("event_id"))
        for entry in logs
        if entry["event"] == "order.unknown_sku"
    ] == [(f"O-{n}", sku, f"message-{n}") for n in range(1, 4) for sku in ("SKU-A", "SKU-Z")]


class HeldBus(Published):
    """A bus whose first publish waits until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.publishing = asyncio.Event()
        self.release = asyncio.Event()

    async def publish(self, event: Event) -> bool:
        if not self.publishing.is_set():
            self.publishing.set()
            await self.release.wait()
        return await super().publish(event)


async def test_the_next_batch_is_recorded_while_the_last_one_is_published(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    """The batch's events are published after it, outside it: order 2 of the same tenant is
    recorded while order 1's order.recorded is still being published (inside the batch, it
    would wait for that publish and this would time out)."""
    tenant = f"batch-{unique_id}"
    bus = HeldBus()
    handlers = handlers_on(pool, bus, order_batch_size=100)
    first = asyncio.create_task(handlers.on_order_shipped(order(tenant, 1)))
    await asyncio.wait_for(bus.publishing.wait(), 10)

    second = asyncio.create_task(handlers.on_order_shipped(order(tenant, 2)))

    async def second_recorded() -> bool:
        return await lines_by_transaction(pool, tenant) == [["O-1"], ["O-2"]]

    await wait_until(second_recorded, 10.0, "order 2 recorded while order 1 is published")
    assert not first.done()
    bus.release.set()
    await asyncio.gather(first, second)
    assert bus.recorded(tenant) == {
        "O-1": [("SKU-A", 1), ("SKU-Z", 1)],
        "O-2": [("SKU-A", 1), ("SKU-Z", 1)],
    }


async def test_an_orders_evaluation_runs_no_count_and_no_work_mem_statement(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    """An order's evaluation (a few skus) opens what the rules say without counting products
    or raising work_mem (two round trips per order it does not need); the daily evaluation
    still counts every product of the tenant, exactly."""
    tenant = f"statements-{unique_id}"
    await list_sku_a(pool, tenant, 0)
    rules = InsightsConfig()
    order_queries: list[str] = []
    daily_queries: list[str] = []

    def into(queries: list[str]) -> Callable[[LoggedQuery], None]:
        return lambda record: queries.append(record.query)

    async with InsightsDatabase(pool).tenant(tenant) as unit:
        logger = into(order_queries)
        unit.conn.add_query_logger(logger)
        order = await evaluate(unit, Evaluation("order.shipped:s", "c", SHIPPED, rules), ["SKU-A"])
        unit.conn.remove_query_logger(logger)
        logger = into(daily_queries)
        unit.conn.add_query_logger(logger)
        daily_evaluation = Evaluation("daily:s", "c", SHIPPED, rules)
        daily = await evaluate(unit, daily_evaluation, None, count_products=True)
        unit.conn.remove_query_logger(logger)

    assert (order.products, order.opened, order.resolved) == (0, 1, 0)
    assert [q for q in order_queries if "count(*)" in q or "work_mem" in q] == []
    assert (daily.products, daily.opened, daily.resolved) == (1, 0, 0)
    assert len([q for q in daily_queries if "SELECT count(*) FROM products" in q]) == 1
    assert len([q for q in daily_queries if "SET LOCAL work_mem" in q]) == 1


class PlansSeen(InsightsDatabase):
    """The database, noting the plan cache mode each tenant unit runs its statements in."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.modes: list[str] = []

    @asynccontextmanager
    async def tenant(
        self, tenant_id: str, *, generic_plans: bool = False
    ) -> AsyncIterator[TenantUnit]:
        async with super().tenant(tenant_id, generic_plans=generic_plans) as unit:
            self.modes.append(await unit.conn.fetchval("SELECT current_setting('plan_cache_mode')"))
            yield unit


async def test_orders_run_generic_plans_and_other_units_the_planners_choice(
    pool: asyncpg.Pool, unique_id: str
) -> None:
    """An order's unit runs its statements' generic plans (planned once per connection: the
    evaluation query of a few skus took longer to plan than to run), and evaluates as the
    rules say; a unit asked without them (a feed's, a listings file's: many skus) plans as
    Postgres chooses, and the setting ends with the order's transaction."""
    tenant = f"plans-{unique_id}"
    await list_sku_a(pool, tenant, 1)
    database = PlansSeen(pool)
    bus = Published()
    handlers = handlers_on(pool, bus, order_batch_size=100)
    handlers.database = database

    await handlers.on_order_shipped(order(tenant, 1))
    async with database.tenant(tenant):
        pass

    assert database.modes == ["force_generic_plan", "auto"]
    opened = [e for e in bus.events if isinstance(e, InsightGenerated) and e.tenant_id == tenant]
    assert [(e.kind, e.sku, e.channel) for e in opened] == [("out_of_stock", "SKU-A", "ebay")]
