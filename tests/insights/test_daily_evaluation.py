"""Insights running by themselves, through the real service (JetStream, Postgres, S3): listings
imported, the clock travelled 31, 91, 181 and 274 days, the daily evaluation opening
slow_mover, reallocation_candidate and aged, a sale and a restock resolving them, the
reallocation list following, resolved insights purged, and the daily cap with its summary."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_insights.adapters.changes import changed_skus
from relay_insights.app import InsightsApp
from relay_insights.domain.announcing import summary_id
from relay_insights.domain.products import Product
from relay_insights.domain.rules import conditions
from relay_insights.domain.transitions import OpenInsight, plan_transitions
from relay_insights.settings import InsightsSettings
from relay_shared import subjects
from relay_shared.channel_config import InsightsConfig
from relay_shared.listings import Listing
from relay_shared.storage import ObjectStore
from tests.insights.daily_support import (
    TravelClock,
    configure_tenant,
    daily_config,
    daily_trigger,
    events_of,
    expected,
    import_listings,
    next_daily,
    stamp,
)
from tests.support.channel_events import offers_merged, order_shipped, put_merged
from tests.support.jetstream import (
    delete_streams,
    nats_client,
    publish,
    wait_consumed,
    wait_for_stream,
)
from tests.support.running import running

pytestmark = pytest.mark.stack

STREAM = f"DAILY_{uuid.uuid4().hex[:8].upper()}"
CONFIGURED = "insights-tenant-configured"
LISTINGS = "insights-listings-imported"


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> TravelClock:
    path: Path = tmp_path_factory.mktemp("clock") / "offset"
    return TravelClock(path)


@pytest.fixture(scope="module")
async def client(isolated_bus: StackEndpoints, clock: TravelClock) -> AsyncIterator[Client]:
    settings = InsightsSettings.from_env(
        isolated_bus.as_env(),
        nats_stream=STREAM,
        outbox_interval_s=0.2,
        evaluate_tick_s=0.2,
        clock_offset_file=clock.path,
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


def midnight(day: date) -> str:
    return stamp(datetime.combine(day, time(), UTC))


async def reallocation_rows(db: asyncpg.Connection, tenant: str) -> list[tuple[Any, ...]]:
    rows = await db.fetch(
        "SELECT entry_id, origin, target, sku, quantity, reason, state FROM reallocation"
        " WHERE tenant_id = $1 ORDER BY entry_id",
        tenant,
    )
    return [tuple(row) for row in rows]


async def test_insights_run_by_themselves_over_274_days(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, clock: TravelClock
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    config = daily_config(tenant, "America/New_York")
    configured = await configure_tenant(client, STREAM, object_store, tenant, config)
    d0 = clock.now().date()
    d61 = d0 + timedelta(days=61)
    lamp_listed = Listing("A", "Lamp", 5, "active", d0)
    seq = await import_listings(
        client, STREAM, object_store, tenant, "amazon", [lamp_listed], clock.now()
    )
    await wait_consumed(client, STREAM, CONFIGURED, configured)
    await wait_consumed(client, STREAM, LISTINGS, seq)

    # day 31: the lamp has not sold since it was listed → slow_mover
    clock.travel(31)
    day31, at31 = await next_daily(db, tenant, 0)
    slow_a = {"quantity": 5, "listed_date": midnight(d0), "last_sold_at": None}
    t31 = daily_trigger(tenant, day31)
    assert await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 1) == [
        expected(tenant, t31, t31, "amazon", "A", "slow_mover", "open", at31, slow_a)
    ]

    # day 61: the merchant lists a rug on both channels; day 75: ebay sells its last rugs
    t61 = clock.now() + timedelta(days=30)
    rug = Listing("R", "Rug", 4, "active", d61)
    await import_listings(client, STREAM, object_store, tenant, "amazon", [lamp_listed, rug], t61)
    seq = await import_listings(
        client, STREAM, object_store, tenant, "ebay", [Listing("R", "Rug", 3, "active", d61)], t61
    )
    await wait_consumed(client, STREAM, LISTINGS, seq)  # the order must find the rug listed
    t75 = clock.now() + timedelta(days=44)
    sale = f"sale-r-{tenant}"
    await publish(client, STREAM, order_shipped(tenant, sale, "O-1", "ebay", [("R", 3)], t75))
    events = await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 2)
    assert events[1] == expected(
        tenant, sale, f"corr-{sale}", "ebay", "R", "out_of_stock", "open", t75, {"quantity": 0}
    )

    # day 91: the amazon rug is slow while ebay is out of stock of it → reallocation
    clock.travel(60)
    day91, at91 = await next_daily(db, tenant, 1)
    t91 = daily_trigger(tenant, day91)
    slow_r = {"quantity": 4, "listed_date": midnight(d61), "last_sold_at": None}
    move = {
        "origin_channel": "amazon",
        "target_channel": "ebay",
        "reason": "slow_mover",
        "target_reason": "out_of_stock",
        "quantity": 4,
    }
    events = await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 4)
    assert events[2:] == [
        expected(tenant, t91, t91, "amazon", "R", "slow_mover", "open", at91, slow_r),
        expected(tenant, t91, t91, "amazon", "R", "reallocation_candidate", "open", at91, move),
    ]
    entry = events[3]["insight_id"]
    assert await reallocation_rows(db, tenant) == [
        (entry, "amazon", "ebay", "R", 4, "slow_mover", "open")
    ]

    # day 181: the lamp was listed more than 180 days ago → aged
    clock.travel(90)
    day181, at181 = await next_daily(db, tenant, 2)
    t181 = daily_trigger(tenant, day181)
    events = await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 5)
    aged_a = {"quantity": 5, "listed_date": midnight(d0)}
    assert events[4] == expected(tenant, t181, t181, "amazon", "A", "aged", "open", at181, aged_a)

    # day 182: the lamps sell out → slow and aged resolve, out_of_stock opens
    t182 = clock.now() + timedelta(days=1)
    lamp = f"sale-a-{tenant}"
    seq = await publish(
        client, STREAM, order_shipped(tenant, lamp, "O-2", "amazon", [("A", 5)], t182)
    )
    await wait_consumed(client, STREAM, "insights-order-shipped", seq)
    # day 183: a restock of rugs → ebay is no longer out of stock, the candidate resolves
    t183 = clock.now() + timedelta(days=2)
    await configure_restock(client, object_store, tenant, t183)
    events = await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 11)
    sold_out = {"status_now": "active", "quantity_now": 0}
    restocked = {"status_now": "active", "quantity_now": 10}
    lamp_corr, restock, restock_corr = (
        f"corr-{lamp}",
        f"offers.merged:{tenant}:restock",
        "corr-restock",
    )
    slow_ebay = {"quantity": 10, "listed_date": midnight(d61), "last_sold_at": stamp(t75)}
    assert events[5:] == [
        expected(
            tenant,
            t181,
            lamp_corr,
            "amazon",
            "A",
            "aged",
            "resolved",
            t182,
            {**aged_a, **sold_out},
            2,
        ),
        expected(
            tenant,
            t31,
            lamp_corr,
            "amazon",
            "A",
            "slow_mover",
            "resolved",
            t182,
            {**slow_a, **sold_out},
            2,
        ),
        expected(
            tenant, lamp, lamp_corr, "amazon", "A", "out_of_stock", "open", t182, {"quantity": 0}
        ),
        expected(
            tenant,
            t91,
            restock_corr,
            "amazon",
            "R",
            "reallocation_candidate",
            "resolved",
            t183,
            {**move, **restocked},
            2,
        ),
        expected(
            tenant,
            sale,
            restock_corr,
            "ebay",
            "R",
            "out_of_stock",
            "resolved",
            t183,
            {"quantity": 0, **restocked},
            2,
        ),
        expected(tenant, restock, restock_corr, "ebay", "R", "slow_mover", "open", t183, slow_ebay),
    ]
    changes = await events_of(client, STREAM, subjects.REALLOCATION_CHANGED, tenant, 2)
    assert [(c["entry_id"], c["state"], c["occurred_at"]) for c in changes] == [
        (entry, "open", stamp(at91)),
        (entry, "withdrawn", stamp(t183)),
    ]

    # day 274: the four insights resolved on days 182-183 are purged (after 90 days)
    clock.travel(93)
    day274, at274 = await next_daily(db, tenant, 3)
    purged = await db.fetchval(
        "SELECT purged FROM daily_evaluations WHERE tenant_id = $1 AND local_day = $2",
        tenant,
        day274,
    )
    left = await db.fetch(
        "SELECT channel, sku, kind, status FROM insights WHERE tenant_id = $1"
        " ORDER BY channel, sku, kind",
        tenant,
    )
    assert purged == 4
    assert [tuple(r) for r in left] == [
        ("amazon", "A", "out_of_stock", "open"),
        ("amazon", "R", "aged", "open"),
        ("amazon", "R", "slow_mover", "open"),
        ("ebay", "R", "aged", "open"),
        ("ebay", "R", "slow_mover", "open"),
    ]
    assert at274 > at181 + timedelta(days=92)


async def configure_restock(
    client: Client, object_store: ObjectStore, tenant: str, at: datetime
) -> None:
    key = await put_merged(object_store, tenant, "restock", ["R,10,19.00,Rug,v1,"])
    event = offers_merged(tenant, "restock", key, at)
    await publish(client, STREAM, event)


async def test_new_insights_beyond_the_daily_cap_are_summarised(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore, clock: TravelClock
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    config = daily_config(tenant, "Asia/Tokyo", max_new_per_channel_per_day=2)
    today = clock.now().date()
    items = [Listing(f"S{i}", f"Stool {i}", 2, "active", today) for i in range(5)]
    configured = await configure_tenant(client, STREAM, object_store, tenant, config)
    seq = await import_listings(client, STREAM, object_store, tenant, "ebay", items, clock.now())
    await wait_consumed(client, STREAM, CONFIGURED, configured)
    await wait_consumed(client, STREAM, LISTINGS, seq)
    done = len(await db.fetch("SELECT 1 FROM daily_evaluations WHERE tenant_id = $1", tenant))

    clock.travel(31)
    day, at = await next_daily(db, tenant, done)
    trigger = daily_trigger(tenant, day)
    events = await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 3)

    detail = {"quantity": 2, "listed_date": midnight(today), "last_sold_at": None}
    summary = summary_id(tenant, "ebay", day)
    assert events == [
        expected(tenant, trigger, trigger, "ebay", "S0", "slow_mover", "open", at, detail),
        expected(tenant, trigger, trigger, "ebay", "S1", "slow_mover", "open", at, detail),
        {
            "schema_version": 1,
            "event_id": f"insight.generated:{summary}:3:summary",
            "occurred_at": stamp(at),
            "tenant_id": tenant,
            "correlation_id": trigger,
            "insight_id": summary,
            "channel": "ebay",
            "sku": "*",
            "kind": "summary",
            "status": "open",
            "since": stamp(at),
            "detail": {"day": day.isoformat(), "count": 3},
        },
    ]
    stored = await db.fetch(
        "SELECT sku, announced FROM insights WHERE tenant_id = $1 ORDER BY sku", tenant
    )
    assert [tuple(r) for r in stored] == [
        ("S0", True),
        ("S1", True),
        ("S2", False),
        ("S3", False),
        ("S4", False),
    ]
    counts = await db.fetchrow(
        "SELECT sent, held FROM daily_announcements WHERE tenant_id = $1 AND channel = 'ebay'",
        tenant,
    )
    assert counts is not None
    assert tuple(counts) == (2, 3)


def _random_products(rng: random.Random, now: datetime) -> list[Product]:
    """Three channels' listings of 500 skus, boundaries included (listed or sold exactly
    30 or 180 days ago)."""
    edges = [now - timedelta(days=30), now - timedelta(days=180)]
    products = []
    for index in range(500):
        for channel in ("amazon", "ebay", "woot"):
            if rng.random() < 0.2:
                continue
            listed = (
                rng.choice(edges)
                if rng.random() < 0.1
                else now - timedelta(days=rng.uniform(0, 400))
            )
            sold = None if rng.random() < 0.5 else now - timedelta(days=rng.uniform(0, 60))
            if sold is not None and rng.random() < 0.1:
                sold = edges[0]
            quantity = 0 if rng.random() < 0.2 else rng.randint(1, 40)
            status = rng.choice(["active", "active", "active", "paused", "delisted"])
            products.append(
                Product(channel, f"S{index:04d}", None, None, quantity, status, listed, sold)
            )
    return products


async def test_the_daily_prefilter_finds_exactly_the_skus_the_rules_change(
    db: asyncpg.Connection,
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    now = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
    products = _random_products(random.Random(7), now)
    await db.copy_records_to_table(
        "products",
        columns=[
            "tenant_id",
            "channel",
            "sku",
            "quantity",
            "status",
            "listed_date",
            "last_sold_at",
            "updated_at",
        ],
        records=[
            (tenant, p.channel, p.sku, p.quantity, p.status, p.listed_date, p.last_sold_at, now)
            for p in products
        ],
    )
    config = InsightsConfig()
    earlier = conditions(products, now - timedelta(days=20), config)
    await db.copy_records_to_table(
        "insights",
        columns=[
            "insight_id",
            "tenant_id",
            "channel",
            "sku",
            "kind",
            "status",
            "opened_at",
            "detail",
            "transitions",
        ],
        records=[
            (f"{tenant}-{i}", tenant, c.channel, c.sku, c.kind, "open", now, "{}", 1)
            for i, c in enumerate(earlier)
        ],
    )
    opened = [
        OpenInsight(f"{tenant}-{i}", c.channel, c.sku, c.kind, now, 1)
        for i, c in enumerate(earlier)
    ]
    planned = plan_transitions(
        tenant, opened, conditions(products, now, config), {p.key for p in products}, now, "x"
    )

    changed, total = await changed_skus(
        db, tenant, now - timedelta(days=30), now - timedelta(days=180)
    )

    assert {t.sku for t in planned}  # the data does change some insights
    assert sorted(changed) == sorted({t.sku for t in planned})
    assert total == len(products)
