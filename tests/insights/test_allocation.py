"""The allocation formula, and the products a merged feed produces in Postgres."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import polars as pl
import pytest

from relay_insights.adapters import database as database_module
from relay_insights.adapters.database import Connection, InsightsDatabase
from relay_insights.domain.allocation import ChannelQuantity, channel_quantities, channel_quantity
from relay_insights.domain.merged_feed import OFFER_SCHEMA, MergedOffers
from relay_insights.domain.products import Product, ProductStatus
from relay_shared.channel_config import AllocationConfig, ChannelConfig

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)
STATUSES: tuple[ProductStatus, ...] = ("active", "paused", "delisted")
CHANNELS = {
    "amazon": ChannelConfig(allocation=AllocationConfig(buffer=2)),
    "ebay": ChannelConfig(allocation=AllocationConfig(share_pct=Decimal(50), max_qty=3)),
    "woot": ChannelConfig(enabled=False),
}


@pytest.mark.parametrize(
    ("merged", "share", "buffer", "max_qty", "expected"),
    [
        (10, "100", 0, None, 10),
        (10, "100", 2, None, 8),
        (10, "50", 0, None, 5),
        (9, "50", 0, None, 4),  # floor(4.5)
        (9, "33.5", 0, None, 3),  # floor(3.015)
        (3, "50", 2, None, 0),  # floor(1.5) - 2 < 0
        (100, "100", 0, 25, 25),
        (100, "10", 1, 25, 9),
        (0, "100", 0, None, 0),
        (0, "100", 0, 0, 0),
        (-5, "100", 0, None, 0),
        (7, "0", 0, None, 0),
    ],
)
def test_channel_quantity(
    merged: int, share: str, buffer: int, max_qty: int | None, expected: int
) -> None:
    allocation = AllocationConfig(share_pct=Decimal(share), buffer=buffer, max_qty=max_qty)
    assert channel_quantity(merged, allocation) == expected


def test_channel_quantities_cover_each_enabled_channel_and_distinct_quantity() -> None:
    assert channel_quantities([10, 1, 10, 0], CHANNELS) == [
        ChannelQuantity("amazon", 0, 0),
        ChannelQuantity("amazon", 1, 0),
        ChannelQuantity("amazon", 10, 8),
        ChannelQuantity("ebay", 0, 0),
        ChannelQuantity("ebay", 1, 0),
        ChannelQuantity("ebay", 10, 3),
    ]


def allocate(
    offers: list[dict[str, object]],
    channels: Mapping[str, ChannelConfig],
    existing: Mapping[tuple[str, str], Product],
    as_of: datetime,
) -> dict[tuple[str, str], Product]:
    """The rule, a product at a time (the oracle for the set-based upsert): every enabled
    channel lists every offer; an existing product keeps its status, listing date and last
    sale, its title and price follow the feed where the feed has them."""
    products = dict(existing)
    for name, channel in channels.items():
        for offer in offers if channel.enabled else []:
            sku, title = str(offer["sku"]), offer["title"]
            price = None if offer["price"] is None else Decimal(str(offer["price"]))
            quantity = channel.allocation.channel_quantity(int(str(offer["quantity"])))
            current = products.get((name, sku))
            if current is None:
                new = Product(name, sku, None, None, quantity, "active", as_of, None)
                current = new
            products[(name, sku)] = replace(
                current,
                quantity=quantity,
                title=str(title) if title is not None else current.title,
                price=price if price is not None else current.price,
            )
    return products


def _random_existing(rng: random.Random) -> list[Product]:
    """Listings of 300 skus on three channels (the disabled one too), some without a title or
    price, some paused or delisted, some sold."""
    products = []
    for index in range(300):
        for channel in CHANNELS:
            if rng.random() < 0.4:
                continue
            title = None if rng.random() < 0.3 else f"Old {index}"
            price = None if rng.random() < 0.3 else Decimal(rng.randint(100, 9999)) / 100
            status = rng.choice(STATUSES)
            sold = None if rng.random() < 0.5 else T0
            quantity = rng.randint(0, 50)
            sku = f"S{index:04d}"
            products.append(Product(channel, sku, title, price, quantity, status, T0, sold))
    return products


def _random_offers(rng: random.Random) -> list[dict[str, object]]:
    """A feed of 400 skus (200 of them new), some without a title or price."""
    return [
        {
            "sku": f"S{index:04d}",
            "quantity": rng.choice([0, 1, 2, 5, 9, 40, 2_000_000_000]),
            "title": None if rng.random() < 0.3 else f'New, {index} "q"',
            "price": None if rng.random() < 0.3 else f"{rng.randint(1, 99999)}.{index % 100:02d}",
        }
        for index in rng.sample(range(500), 400)
    ]


@pytest.mark.stack
async def test_the_upsert_gives_the_products_the_rule_gives(pool: asyncpg.Pool) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    rng = random.Random(5)
    existing = _random_existing(rng)
    offers = _random_offers(rng)
    database = InsightsDatabase(pool)
    async with database.tenant(tenant) as unit:
        await unit.upsert_products(existing, T0)
    frame = pl.DataFrame(offers, schema=OFFER_SCHEMA)

    async with database.tenant(tenant) as unit:
        quantities = channel_quantities(frame["quantity"].to_list(), CHANNELS)
        await unit.apply_merged_offers(MergedOffers(frame), quantities, T1)

    async with database.tenant(tenant) as unit:
        found = await unit.products([f"S{index:04d}" for index in range(500)])
        times = await unit.conn.fetch(
            "SELECT channel, sku, updated_at FROM products WHERE tenant_id = $1", tenant
        )
    expected = allocate(offers, CHANNELS, {p.key: p for p in existing}, T1)
    assert {p.key: p for p in found} == expected
    offered = {str(offer["sku"]) for offer in offers}
    assert {(r["channel"], r["sku"]): r["updated_at"] for r in times} == {
        key: T1 if key[0] != "woot" and key[1] in offered else T0 for key in expected
    }


@pytest.mark.stack
@pytest.mark.parametrize("analyze_after", [1, 10_000_000])
async def test_a_large_insert_refreshes_the_planner_statistics(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, analyze_after: int
) -> None:
    """After a unit inserts many products, ``products`` is analysed (its row estimate is then
    the table's count: the table is small enough to be read whole), and not otherwise."""
    monkeypatch.setattr(database_module, "ANALYZE_AFTER_INSERTS", analyze_after)
    database = InsightsDatabase(pool)
    offers = [
        {"sku": f"N{index}", "quantity": 3, "title": None, "price": None} for index in range(50)
    ]
    frame = pl.DataFrame(offers, schema=OFFER_SCHEMA)
    async with pool.acquire() as conn:
        analysed_before = await _analyze_count(conn)
    async with database.tenant(f"t-{uuid.uuid4().hex[:12]}") as unit:
        quantities = channel_quantities([3], CHANNELS)
        await unit.apply_merged_offers(MergedOffers(frame), quantities, T1)
        assert unit.inserted == 100

    async with pool.acquire() as conn:
        estimate = await conn.fetchval(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'products'::regclass"
        )
        count = await conn.fetchval("SELECT count(*) FROM products")
        analysed = await _analyze_count(conn) - analysed_before
    if analyze_after == 1:
        assert (estimate, analysed >= 1) == (count, True)
    else:
        assert analysed == 0


async def _analyze_count(conn: Connection) -> int:
    """How many times ``products`` was analysed by hand (autovacuum's runs not counted)."""
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(
        await conn.fetchval(
            "SELECT analyze_count FROM pg_stat_user_tables WHERE relid = 'products'::regclass"
        )
    )


@pytest.mark.stack
async def test_two_feeds_in_one_unit_leave_the_second_ones_quantities(pool: asyncpg.Pool) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    first = pl.DataFrame(
        [("A", 10, "a", "1.00"), ("B", 4, None, None)], schema=OFFER_SCHEMA, orient="row"
    )
    second = pl.DataFrame([("A", 5, None, "2.50")], schema=OFFER_SCHEMA, orient="row")
    async with InsightsDatabase(pool).tenant(tenant) as unit:
        for frame, at in ((first, T0), (second, T1)):
            quantities = channel_quantities(frame["quantity"].to_list(), CHANNELS)
            await unit.apply_merged_offers(MergedOffers(frame), quantities, at)
        found = await unit.products(["A", "B"])

    assert [(p.channel, p.sku, p.quantity, p.title, p.price) for p in found] == [
        ("amazon", "A", 3, "a", Decimal("2.50")),
        ("ebay", "A", 2, "a", Decimal("2.50")),
        ("amazon", "B", 2, None, None),
        ("ebay", "B", 2, None, None),
    ]
