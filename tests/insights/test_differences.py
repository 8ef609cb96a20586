"""The set-based query an evaluation runs (:mod:`relay_insights.adapters.changes`) finds exactly
the transitions the pure rules plan: the same insights opened (same ids, details and order,
so the daily cap admits the same ones) and resolved (with the product's state now), on random
products with listing and sale dates on the cutoffs, in batches of any size."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from relay_insights.adapters import changes
from relay_insights.adapters.database import Connection
from relay_insights.domain.products import Product
from relay_insights.domain.rules import conditions
from relay_insights.domain.transitions import (
    Ending,
    OpenInsight,
    Transition,
    ended,
    opened,
    plan_transitions,
    with_state_now,
)
from relay_shared.channel_config import InsightsConfig
from tests.insights.test_daily_evaluation import _random_products

pytestmark = pytest.mark.stack
PRODUCT_COLUMNS = [
    "tenant_id",
    "channel",
    "sku",
    "quantity",
    "status",
    "listed_date",
    "last_sold_at",
    "updated_at",
]
INSIGHT_COLUMNS = [
    "insight_id",
    "tenant_id",
    "channel",
    "sku",
    "kind",
    "status",
    "opened_at",
    "detail",
    "transitions",
    "announced",
]


async def _found(
    conn: Connection, tenant: str, now: datetime, scope: changes.SkuScope, size: int
) -> list[Transition]:
    cutoffs = (now - timedelta(days=30), now - timedelta(days=180))
    return [
        ended(d, now) if isinstance(d, Ending) else opened(tenant, d, now, "trigger")
        for batch in [b async for b in changes.differences(conn, tenant, cutoffs, scope, size)]
        for d in batch
    ]


def _shape(t: Transition) -> tuple[Any, ...]:
    detail = json.dumps(t.detail, sort_keys=True)
    return (t.insight_id, t.channel, t.sku, t.kind, t.status, t.at, t.number, detail)


async def _seed(
    conn: Connection, tenant: str, now: datetime
) -> tuple[list[Product], list[OpenInsight]]:
    """Random products, and open insights of the conditions that held 20 days earlier."""
    products = _random_products(random.Random(11), now)
    earlier = conditions(products, now - timedelta(days=20), InsightsConfig())
    open_before = [
        OpenInsight(
            f"{tenant}-{i}", c.channel, c.sku, c.kind, now, 2, {}, i % 3 != 0, json.dumps(c.detail)
        )
        for i, c in enumerate(earlier)
    ]
    await conn.copy_records_to_table(
        "products",
        columns=PRODUCT_COLUMNS,
        records=[
            (tenant, p.channel, p.sku, p.quantity, p.status, p.listed_date, p.last_sold_at, now)
            for p in products
        ],
    )
    await conn.copy_records_to_table(
        "insights",
        columns=INSIGHT_COLUMNS,
        records=[
            (
                i.insight_id,
                tenant,
                i.channel,
                i.sku,
                i.kind,
                "open",
                now,
                i.raw_detail,
                2,
                i.announced,
            )
            for i in open_before
        ],
    )
    return products, open_before


@pytest.mark.parametrize("size", [7, 20_000])
async def test_the_query_finds_the_transitions_the_rules_plan(
    pool: asyncpg.Pool, size: int
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    now = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
    config = InsightsConfig()
    async with pool.acquire() as conn, conn.transaction():
        products, open_before = await _seed(conn, tenant, now)
        found = await _found(conn, tenant, now, changes.EVERY_SKU, size)

    keyed = {p.key: p for p in products}
    planned = with_state_now(
        plan_transitions(
            tenant, open_before, conditions(products, now, config), keyed, now, "trigger"
        ),
        keyed,
    )
    planned_openings = [_shape(t) for t in planned if t.status == "open"]
    assert len(planned_openings) > 100  # the data opens and resolves many insights
    assert [_shape(t) for t in found if t.status == "open"] == planned_openings
    # a resolution carries its detail when it is announced (its event needs it)
    resolutions = {
        _shape(t if t.announced else Transition(*_shape(t)[:7]))
        for t in planned
        if t.status == "resolved"
    }
    assert len(resolutions) > 100
    assert {_shape(t) for t in found if t.status == "resolved"} == resolutions
    assert [t.announced for t in found if t.status == "resolved"] == [
        t.announced for t in sorted(planned, key=_order) if t.status == "resolved"
    ]


def _order(t: Transition) -> tuple[str, str, str]:
    return (t.sku, t.channel, t.kind)


@pytest.mark.parametrize(
    ("stage_from", "few", "plans"),
    [
        (1, changes.FEW_SKUS, "auto"),  # staged in a temporary table
        (changes.STAGE_SKUS_FROM, changes.FEW_SKUS, "auto"),  # an array, fetched at once
        (changes.STAGE_SKUS_FROM, 10, "auto"),  # an array, through a cursor
        (changes.STAGE_SKUS_FROM, changes.FEW_SKUS, "force_generic_plan"),  # as an order's
    ],
)
async def test_some_skus_have_the_transitions_of_every_sku_limited_to_them(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, stage_from: int, few: int, plans: str
) -> None:
    """Some skus, as an array (few of them fetched at once, more through a cursor) or staged
    in a temporary table, with the plans Postgres picks or the generic plans an order's unit
    runs, give exactly the transitions of every product of the tenant that are theirs (a
    sku's rules look only at its own products), in batches of at most the size asked."""
    monkeypatch.setattr(changes, "STAGE_SKUS_FROM", stage_from)
    monkeypatch.setattr(changes, "FEW_SKUS", few)
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    now = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
    some = {f"S{index:04d}" for index in range(0, 500, 3)} | {"S9999"}
    cutoffs = (now - timedelta(days=30), now - timedelta(days=180))
    async with pool.acquire() as conn, conn.transaction():
        products, _ = await _seed(conn, tenant, now)
        everything = await _found(conn, tenant, now, changes.EVERY_SKU, 50)
        await conn.execute(f"SET LOCAL plan_cache_mode = {plans}")
        scope = await changes.sku_scope(conn, some)
        sizes = [len(b) async for b in changes.differences(conn, tenant, cutoffs, scope, 50)]
        found = await _found(conn, tenant, now, scope, 50)
        count = await changes.product_count(conn, tenant, scope)

    assert scope.staged is (stage_from == 1)
    expected = [_shape(t) for t in everything if t.sku in some]
    assert len(expected) > 50
    assert [_shape(t) for t in found] == expected
    whole, rest = divmod(len(expected), 50)
    assert sizes == [50] * whole + ([rest] if rest else [])
    assert count == sum(1 for p in products if p.sku in some)
