"""The insights service on the real stack: JetStream in and out, Postgres, S3."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_insights.app import InsightsApp
from relay_insights.domain.transitions import insight_id
from relay_insights.settings import InsightsSettings
from relay_shared import subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.storage import ObjectStore
from tests.support.channel_events import offers_merged, order_shipped, put_merged, tenant_config
from tests.support.jetstream import (
    collect,
    delete_streams,
    nats_client,
    publish,
    wait_consumed,
    wait_for_stream,
)
from tests.support.polling import wait_until
from tests.support.running import running

pytestmark = pytest.mark.stack

STREAM = f"INSIGHTS_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ORDERS = "insights-order-shipped"
MERGES = "insights-offers-merged"


@pytest.fixture(scope="module")
async def client(isolated_bus: StackEndpoints) -> AsyncIterator[Client]:
    settings = InsightsSettings.from_env(
        isolated_bus.as_env(), nats_stream=STREAM, outbox_interval_s=0.2, max_deliver=2
    )
    async with nats_client(isolated_bus.nats_url) as nats:
        try:
            async with running([InsightsApp(settings)]):
                await wait_for_stream(nats, STREAM)
                yield nats
        finally:
            await delete_streams(nats, STREAM)


@pytest.fixture(scope="module")
async def db(isolated_bus: StackEndpoints, client: Client) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(
        isolated_bus.database_url, server_settings={"search_path": "insights", "timezone": "UTC"}
    )
    try:
        yield conn
    finally:
        await conn.close()


async def insight_events(client: Client, tenant: str, count: int) -> list[dict[str, Any]]:
    """The tenant's first ``count`` insight.generated events, in stream order."""
    mine: list[dict[str, Any]] = []

    def enough(payload: dict[str, Any]) -> bool:
        if payload["tenant_id"] == tenant:
            mine.append(payload)
        return len(mine) >= count

    await collect(client, STREAM, subjects.INSIGHT_GENERATED, until=enough, timeout=30.0)
    return mine


def insight(
    tenant: str,
    trigger: str,
    channel: str,
    sku: str,
    status: str,
    at: datetime,
    detail: dict[str, Any],
    number: int = 1,
    kind: str = "out_of_stock",
    correlation: str | None = None,
) -> dict[str, Any]:
    iid = insight_id(tenant, channel, sku, kind, trigger)
    stamp = at.isoformat().replace("+00:00", "Z")
    return {
        "schema_version": 1,
        "event_id": f"insight.generated:{iid}:{number}:{status}",
        "occurred_at": stamp,
        "tenant_id": tenant,
        "correlation_id": correlation or f"corr-{trigger.rsplit(':', 1)[-1]}",
        "insight_id": iid,
        "channel": channel,
        "sku": sku,
        "kind": kind,
        "status": status,
        "since": stamp,
        "detail": detail,
    }


async def products(db: asyncpg.Connection, tenant: str) -> list[tuple[Any, ...]]:
    rows = await db.fetch(
        "SELECT channel, sku, title, price, quantity, status, listed_date, last_sold_at"
        " FROM products WHERE tenant_id = $1 ORDER BY channel, sku",
        tenant,
    )
    return [tuple(row) for row in rows]


async def start_tenant(
    client: Client, object_store: ObjectStore, tenant: str, rows: list[str]
) -> str:
    await TenantConfigStore(object_store).save(tenant, 1, tenant_config(tenant))
    key = await put_merged(object_store, tenant, "run-1", rows)
    await publish(client, STREAM, offers_merged(tenant, "run-1", key, T0))
    return f"{subjects.OFFERS_MERGED}:{tenant}:run-1"


MERGED_ROWS = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,", "C-3,0,7.00,Gadget,v1,"]


async def test_merged_feed_sets_channel_quantities_and_opens_out_of_stock(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    trigger = await start_tenant(client, object_store, tenant, MERGED_ROWS)

    events = await insight_events(client, tenant, 3)

    assert events == [
        insight(tenant, trigger, "amazon", "B-2", "open", T0, {"quantity": 0}),
        insight(tenant, trigger, "amazon", "C-3", "open", T0, {"quantity": 0}),
        insight(tenant, trigger, "ebay", "C-3", "open", T0, {"quantity": 0}),
    ]
    assert await products(db, tenant) == [
        ("amazon", "A-1", "Widget", Decimal("12.00"), 8, "active", T0, None),
        ("amazon", "B-2", None, Decimal("5.50"), 0, "active", T0, None),
        ("amazon", "C-3", "Gadget", Decimal("7.00"), 0, "active", T0, None),
        ("ebay", "A-1", "Widget", Decimal("12.00"), 3, "active", T0, None),
        ("ebay", "B-2", None, Decimal("5.50"), 1, "active", T0, None),
        ("ebay", "C-3", "Gadget", Decimal("7.00"), 0, "active", T0, None),
    ]
    rows = await db.fetch(
        "SELECT channel, sku, kind, status, opened_at, resolved_at, detail::text, transitions"
        " FROM insights WHERE tenant_id = $1 ORDER BY channel, sku",
        tenant,
    )
    assert [tuple(r) for r in rows] == [
        ("amazon", "B-2", "out_of_stock", "open", T0, None, '{"quantity": 0}', 1),
        ("amazon", "C-3", "out_of_stock", "open", T0, None, '{"quantity": 0}', 1),
        ("ebay", "C-3", "out_of_stock", "open", T0, None, '{"quantity": 0}', 1),
    ]
    # The events arrive before the drain that published them commits its marks.
    await wait_until(lambda: outbox_drained(db), 10.0, "the outbox drained")
    state = await db.fetchrow(
        "SELECT config_version, run_id, merged_at FROM tenants WHERE tenant_id = $1", tenant
    )
    assert state is not None
    assert tuple(state) == (1, "run-1", T0)


async def outbox_drained(db: asyncpg.Connection) -> bool:
    pending = await db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    return bool(pending == 0)


ORDER_LINES = (
    "SELECT order_id, sku, channel, quantity, shipped_at, problem, event_id"
    " FROM order_lines WHERE tenant_id = $1 ORDER BY sku"
)
SHIPPED = T0 + timedelta(hours=1)


async def ship_first_order(
    client: Client, object_store: ObjectStore, tenant: str, event_id: str
) -> list[dict[str, Any]]:
    """The tenant's merged feed, then order O-1 on ebay (A-1 twice, unknown Z-9); the
    tenant's insight events once the order's has come."""
    await start_tenant(client, object_store, tenant, MERGED_ROWS)
    await insight_events(client, tenant, 3)
    order = order_shipped(
        tenant, event_id, "O-1", "ebay", [("A-1", 2), ("Z-9", 1), ("A-1", 2)], SHIPPED
    )
    await publish(client, STREAM, order)
    return await insight_events(client, tenant, 4)


async def test_order_subtracts_once_and_records_unknown_skus(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, event_id = f"t-{unique_id}", f"evt-1-{unique_id}"

    events = await ship_first_order(client, object_store, tenant, event_id)

    assert events[3] == insight(tenant, event_id, "ebay", "A-1", "open", SHIPPED, {"quantity": 0})
    assert await products(db, tenant) == [
        ("amazon", "A-1", "Widget", Decimal("12.00"), 8, "active", T0, None),
        ("amazon", "B-2", None, Decimal("5.50"), 0, "active", T0, None),
        ("amazon", "C-3", "Gadget", Decimal("7.00"), 0, "active", T0, None),
        ("ebay", "A-1", "Widget", Decimal("12.00"), 0, "active", T0, SHIPPED),
        ("ebay", "B-2", None, Decimal("5.50"), 1, "active", T0, None),
        ("ebay", "C-3", "Gadget", Decimal("7.00"), 0, "active", T0, None),
    ]
    assert [tuple(r) for r in await db.fetch(ORDER_LINES, tenant)] == [
        ("O-1", "A-1", "ebay", 4, SHIPPED, None, event_id),
        ("O-1", "Z-9", "ebay", 1, SHIPPED, "unknown_sku", event_id),
    ]
    recorded = await collect(
        client, STREAM, subjects.ORDER_RECORDED, until=lambda e: e["tenant_id"] == tenant
    )
    assert {k: v for k, v in recorded[-1].items() if k != "event_id"} == {
        "schema_version": 1,
        "occurred_at": "2026-03-01T13:00:00Z",
        "tenant_id": tenant,
        "correlation_id": f"corr-{event_id}",
        "order_id": "O-1",
        "channel": "ebay",
        "shipped_at": "2026-03-01T13:00:00Z",
        "lines": [
            {"sku": "A-1", "quantity": 4, "problem": None},
            {"sku": "Z-9", "quantity": 1, "problem": "unknown_sku"},
        ],
    }


async def test_a_resent_order_records_and_sells_only_its_new_lines(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, first = f"t-{unique_id}", f"evt-1-{unique_id}"
    await ship_first_order(client, object_store, tenant, first)
    resent = order_shipped(
        tenant, f"evt-2-{unique_id}", "O-1", "ebay", [("A-1", 9), ("B-2", 1)], SHIPPED
    )

    seq = await publish(client, STREAM, resent)
    await wait_consumed(client, STREAM, ORDERS, seq)

    # B-2 is a new line of the re-sent order: it is recorded and sold; A-1 is not again.
    expected_lines = [
        ("O-1", "A-1", "ebay", 4, SHIPPED, None, first),
        ("O-1", "B-2", "ebay", 1, SHIPPED, None, f"evt-2-{unique_id}"),
        ("O-1", "Z-9", "ebay", 1, SHIPPED, "unknown_sku", first),
    ]
    expected_ebay = [
        ("ebay", "A-1", "Widget", Decimal("12.00"), 0, "active", T0, SHIPPED),
        ("ebay", "B-2", None, Decimal("5.50"), 0, "active", T0, SHIPPED),
    ]
    assert [tuple(r) for r in await db.fetch(ORDER_LINES, tenant)] == expected_lines
    events = await insight_events(client, tenant, 5)
    assert events[4] == insight(
        tenant, f"evt-2-{unique_id}", "ebay", "B-2", "open", SHIPPED, {"quantity": 0}
    )
    assert (await products(db, tenant))[3:5] == expected_ebay

    again = order_shipped(
        tenant, f"evt-3-{unique_id}", "O-1", "ebay", [("A-1", 9), ("B-2", 1)], SHIPPED
    )
    seq = await publish(client, STREAM, again)
    await wait_consumed(client, STREAM, ORDERS, seq)

    assert [tuple(r) for r in await db.fetch(ORDER_LINES, tenant)] == expected_lines
    assert (await products(db, tenant))[3:5] == expected_ebay
    subjects_written = await db.fetch(
        "SELECT subject, count(*) FROM outbox WHERE payload::jsonb ->> 'tenant_id' = $1"
        " GROUP BY subject ORDER BY subject",
        tenant,
    )
    assert [tuple(r) for r in subjects_written] == [
        (subjects.INSIGHT_GENERATED, 5),
        (subjects.ORDER_RECORDED, 2),
    ]


async def test_restocking_resolves_open_insights(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    first = await start_tenant(client, object_store, tenant, MERGED_ROWS)
    await insight_events(client, tenant, 3)
    later = T0 + timedelta(days=1)
    key = await put_merged(object_store, tenant, "run-2", ["C-3,5,7.00,Gadget,v1,"])

    await publish(client, STREAM, offers_merged(tenant, "run-2", key, later))

    events = await insight_events(client, tenant, 5)
    run_2 = "corr-run-2"
    # a resolution carries the product's state when it ended: a restock, not a pause
    amazon = {"quantity": 0, "status_now": "active", "quantity_now": 3}
    ebay = {"quantity": 0, "status_now": "active", "quantity_now": 2}
    assert events[3:] == [
        insight(tenant, first, "amazon", "C-3", "resolved", later, amazon, 2, correlation=run_2),
        insight(tenant, first, "ebay", "C-3", "resolved", later, ebay, 2, correlation=run_2),
    ]
    rows = await db.fetch(
        "SELECT channel, sku, status, resolved_at, transitions FROM insights"
        " WHERE tenant_id = $1 ORDER BY channel, sku",
        tenant,
    )
    assert [tuple(r) for r in rows] == [
        ("amazon", "B-2", "open", None, 1),
        ("amazon", "C-3", "resolved", later, 2),
        ("ebay", "C-3", "resolved", later, 2),
    ]
    quantities = await db.fetch(
        "SELECT channel, quantity FROM products WHERE tenant_id = $1 AND sku = 'C-3'"
        " ORDER BY channel",
        tenant,
    )
    assert [tuple(r) for r in quantities] == [("amazon", 3), ("ebay", 2)]


async def test_an_older_merged_feed_arriving_late_changes_nothing(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    await start_tenant(client, object_store, tenant, MERGED_ROWS)
    await insight_events(client, tenant, 3)
    before = await products(db, tenant)
    key = await put_merged(object_store, tenant, "run-0", ["C-3,50,7.00,Gadget,v1,"])

    seq = await publish(client, STREAM, offers_merged(tenant, "run-0", key, T0 - timedelta(1)))
    await wait_consumed(client, STREAM, MERGES, seq)

    assert await products(db, tenant) == before
    assert await count_insights(db, tenant) == 3


async def count_insights(db: asyncpg.Connection, tenant: str) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM insights WHERE tenant_id = $1", tenant)
    return count


async def test_a_merged_feed_without_quantities_is_dead_lettered(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    await TenantConfigStore(object_store).save(tenant, 1, tenant_config(tenant))
    key = f"tenants/{tenant}/outputs/run-1/merged_inventory.csv"
    await object_store.put_bytes(key, b"sku,price\nA-1,1.00\n")

    await publish(client, STREAM, offers_merged(tenant, "run-1", key, T0))

    dead = await collect(
        client,
        subjects.dead_letter_stream(STREAM),
        subjects.dead_letter_subject(subjects.OFFERS_MERGED),
        until=lambda record: tenant in record["payload"],
    )
    record = dead[-1]
    assert (record["service"], record["code"], record["reason"], record["deliveries"]) == (
        "insights",
        "invalid_merged_feed",
        "the merged feed has no column quantity_available",
        1,
    )
    assert await products(db, tenant) == []
    assert json.loads(record["payload"])["tenant_id"] == tenant
