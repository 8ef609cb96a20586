"""What channels report back, through the real service: a succeeded pause or reprice moves the
product (the rules then see a paused listing as paused), a dry run changes nothing, a push
offers stock on the reallocation list, and a pull claims an entry once."""

from __future__ import annotations

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
from relay_insights.settings import InsightsSettings
from relay_shared import subjects
from relay_shared.events import ChannelActed, ReallocationClaimRequested
from relay_shared.listings import Listing
from relay_shared.storage import ObjectStore
from tests.insights.daily_support import (
    configure_tenant,
    daily_config,
    events_of,
    expected,
    import_listings,
    stamp,
)
from tests.support.jetstream import (
    delete_streams,
    nats_client,
    publish,
    wait_consumed,
    wait_for_stream,
)
from tests.support.running import running

pytestmark = pytest.mark.stack

STREAM = f"FEEDBACK_{uuid.uuid4().hex[:8].upper()}"
ACTED = "insights-channel-acted"
CLAIMS = subjects.durable_name("insights", subjects.REALLOCATION_CLAIM_REQUESTED)
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def client(isolated_bus: StackEndpoints) -> AsyncIterator[Client]:
    settings = InsightsSettings.from_env(
        isolated_bus.as_env(), nats_stream=STREAM, outbox_interval_s=0.2
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


def acted(tenant: str, name: str, sku: str, action: str, outcome: str, **more: Any) -> ChannelActed:
    return ChannelActed(
        event_id=f"{subjects.CHANNEL_ACTED}:{tenant}:{name}",
        occurred_at=more.pop("at", T0 + timedelta(hours=1)),
        tenant_id=tenant,
        correlation_id=f"corr-{name}",
        action_id=f"act-{name}",
        insight_id=f"ins-{name}",
        channel="amazon",
        sku=sku,
        action=action,
        outcome=outcome,
        dry_run=outcome == "dry_run",
        duration_ms=12,
        **more,
    )


async def product(db: asyncpg.Connection, tenant: str, sku: str) -> tuple[Any, ...]:
    row = await db.fetchrow(
        "SELECT status, price, quantity FROM products WHERE tenant_id = $1 AND sku = $2",
        tenant,
        sku,
    )
    assert row is not None
    return tuple(row)


async def start(client: Client, db: asyncpg.Connection, store: ObjectStore, tenant: str) -> None:
    configured = await configure_tenant(client, STREAM, store, tenant, daily_config(tenant, "UTC"))
    items = [Listing("P", "Pan", 0, "active", T0.date()), Listing("Q", "Pot", 7, "active", None)]
    seq = await import_listings(client, STREAM, store, tenant, "amazon", items, T0)
    await wait_consumed(client, STREAM, "insights-tenant-configured", configured)
    await wait_consumed(client, STREAM, "insights-listings-imported", seq)


async def test_a_pause_moves_the_product_and_a_restock_resolves_out_of_stock(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    await start(client, db, object_store, tenant)
    opened = (await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 1))[0]
    assert opened["event_id"].startswith("insight.generated:")
    assert (opened["sku"], opened["kind"], opened["since"]) == ("P", "out_of_stock", stamp(T0))

    dry = acted(tenant, "dry", "P", "pause", "dry_run", status_after=None)
    seq = await publish(client, STREAM, dry)
    await wait_consumed(client, STREAM, ACTED, seq)
    assert await product(db, tenant, "P") == ("active", None, 0)

    paused = acted(tenant, "pause", "P", "pause", "succeeded", status_after="paused")
    repriced = acted(tenant, "price", "Q", "reprice", "succeeded", price_after=Decimal("9.50"))
    await publish(client, STREAM, paused)
    seq = await publish(client, STREAM, repriced)
    await wait_consumed(client, STREAM, ACTED, seq)
    assert await product(db, tenant, "P") == ("paused", None, 0)
    assert await product(db, tenant, "Q") == ("active", Decimal("9.50"), 7)

    # the pause itself does not end the insight (P is still out of stock); a restock does
    restocked = [Listing("P", "Pan", 4, "paused", T0.date())]
    at = T0 + timedelta(hours=2)
    seq = await import_listings(client, STREAM, object_store, tenant, "amazon", restocked, at)
    await wait_consumed(client, STREAM, "insights-listings-imported", seq)
    resolved = (await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 2))[1]
    opened_id = opened["insight_id"]  # opened by the listings import
    assert resolved == expected(
        tenant,
        "(replaced below)",
        "corr-listings-amazon",
        "amazon",
        "P",
        "out_of_stock",
        "resolved",
        at,
        {"quantity": 0, "status_now": "paused", "quantity_now": 4},
        2,
    ) | {"insight_id": opened_id, "event_id": f"insight.generated:{opened_id}:2:resolved"}


async def test_a_push_is_offered_and_claimed_once(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    await start(client, db, object_store, tenant)
    seq = await publish(client, STREAM, acted(tenant, "push", "Q", "push", "succeeded"))
    await wait_consumed(client, STREAM, ACTED, seq)
    entry = "push:act-push"

    claims = [
        ReallocationClaimRequested(
            event_id=f"{subjects.REALLOCATION_CLAIM_REQUESTED}:{tenant}:{channel}",
            occurred_at=T0 + timedelta(hours=2, minutes=minute),
            tenant_id=tenant,
            correlation_id=f"corr-claim-{channel}",
            entry_id=entry,
            channel=channel,
        )
        for minute, channel in enumerate(("amazon", "ebay", "woot"))
    ]
    for claim in claims:
        seq = await publish(client, STREAM, claim)
    await wait_consumed(client, STREAM, CLAIMS, seq)

    changes = await events_of(client, STREAM, subjects.REALLOCATION_CHANGED, tenant, 2)
    common = {"schema_version": 1, "tenant_id": tenant, "entry_id": entry, "origin": "amazon"}
    common |= {"target": None, "sku": "Q", "quantity": 7, "reason": "pushed"}
    assert changes == [
        common
        | {
            "event_id": f"reallocation.changed:{tenant}:{entry}:open",
            "occurred_at": stamp(T0 + timedelta(hours=1)),
            "correlation_id": "corr-push",
            "state": "open",
            "claimed_by": None,
        },
        common
        | {
            "event_id": f"reallocation.changed:{tenant}:{entry}:claimed",
            "occurred_at": stamp(T0 + timedelta(hours=2, minutes=1)),
            "correlation_id": "corr-claim-ebay",
            "state": "claimed",
            "claimed_by": "ebay",
        },
    ]
    rows = await db.fetch("SELECT state, claimed_by FROM reallocation WHERE tenant_id = $1", tenant)
    assert [tuple(r) for r in rows] == [("claimed", "ebay")]
    written = await db.fetchval(
        "SELECT count(*) FROM outbox WHERE subject = $1 AND payload::jsonb ->> 'tenant_id' = $2",
        subjects.REALLOCATION_CHANGED,
        tenant,
    )
    assert written == 2
