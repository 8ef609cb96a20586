"""A reallocation entry is done when the channel that claimed it reports its pull succeeded,
through the real insights service (JetStream, Postgres): open → claimed → done, in the table and
in ``reallocation.changed``, whichever of the pull's report and its claim request insights
consumes first; a channel that did not claim the entry, or a pull that failed, changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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

STREAM = f"DONE_{uuid.uuid4().hex[:8].upper()}"
ACTED = "insights-channel-acted"
CLAIMS = subjects.durable_name("insights", subjects.REALLOCATION_CLAIM_REQUESTED)
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
ENTRY = "push:act-push"


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


def acted(
    tenant: str, name: str, channel: str, action: str, outcome: str, at: datetime
) -> ChannelActed:
    """A channel's report; a pull's ``insight_id`` is the entry it pulled."""
    return ChannelActed(
        event_id=f"{subjects.CHANNEL_ACTED}:{tenant}:{name}",
        occurred_at=at,
        tenant_id=tenant,
        correlation_id=f"corr-{name}",
        action_id=f"act-{name}",
        insight_id=ENTRY if action == "pull" else f"ins-{name}",
        channel=channel,
        sku="Q",
        action=action,
        outcome=outcome,
        dry_run=False,
        duration_ms=5,
    )


def claim(tenant: str, channel: str, at: datetime) -> ReallocationClaimRequested:
    return ReallocationClaimRequested(
        event_id=f"{subjects.REALLOCATION_CLAIM_REQUESTED}:{tenant}:{channel}",
        occurred_at=at,
        tenant_id=tenant,
        correlation_id=f"corr-claim-{channel}",
        entry_id=ENTRY,
        channel=channel,
    )


async def pushed_entry(
    client: Client, db: asyncpg.Connection, store: ObjectStore, tenant: str
) -> None:
    """Amazon lists Q (7 in stock) and pushes it: the open entry ``ENTRY``."""
    configured = await configure_tenant(client, STREAM, store, tenant, daily_config(tenant, "UTC"))
    items = [Listing("Q", "Pot", 7, "active", None)]
    seq = await import_listings(client, STREAM, store, tenant, "amazon", items, T0)
    await wait_consumed(client, STREAM, "insights-tenant-configured", configured)
    await wait_consumed(client, STREAM, "insights-listings-imported", seq)
    push = acted(tenant, "push", "amazon", "push", "succeeded", T0 + timedelta(hours=1))
    await wait_consumed(client, STREAM, ACTED, await publish(client, STREAM, push))
    assert await entry_row(db, tenant) == ("open", None)


async def entry_row(db: asyncpg.Connection, tenant: str) -> tuple[Any, ...]:
    rows = await db.fetch("SELECT state, claimed_by FROM reallocation WHERE tenant_id = $1", tenant)
    (row,) = rows
    return tuple(row)


def change(tenant: str, state: str, at: datetime, correlation: str, by: str | None) -> Any:
    return {
        "schema_version": 1,
        "event_id": f"reallocation.changed:{tenant}:{ENTRY}:{state}",
        "occurred_at": stamp(at),
        "tenant_id": tenant,
        "correlation_id": correlation,
        "entry_id": ENTRY,
        "origin": "amazon",
        "target": None,
        "sku": "Q",
        "quantity": 7,
        "reason": "pushed",
        "state": state,
        "claimed_by": by,
    }


async def written_changes(db: asyncpg.Connection, tenant: str) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM outbox WHERE subject = $1 AND payload::jsonb ->> 'tenant_id' = $2",
        subjects.REALLOCATION_CHANGED,
        tenant,
    )
    return count


async def test_the_pull_of_the_channel_that_claimed_an_entry_makes_it_done(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    await pushed_entry(client, db, object_store, tenant)
    t1, t2 = T0 + timedelta(hours=2), T0 + timedelta(hours=3)
    await wait_consumed(
        client, STREAM, CLAIMS, await publish(client, STREAM, claim(tenant, "ebay", t1))
    )
    assert await entry_row(db, tenant) == ("claimed", "ebay")

    # a failed pull of ebay, and a pull of a channel that holds no claim, change nothing
    for report in (
        acted(tenant, "pull-failed", "ebay", "pull", "failed", t2),
        acted(tenant, "pull-woot", "woot", "pull", "succeeded", t2),
    ):
        await wait_consumed(client, STREAM, ACTED, await publish(client, STREAM, report))
        assert await entry_row(db, tenant) == ("claimed", "ebay")

    pulled = acted(tenant, "pull-ebay", "ebay", "pull", "succeeded", t2)
    await wait_consumed(client, STREAM, ACTED, await publish(client, STREAM, pulled))
    await wait_consumed(client, STREAM, ACTED, await publish(client, STREAM, pulled))  # again

    assert await entry_row(db, tenant) == ("done", "ebay")
    assert await events_of(client, STREAM, subjects.REALLOCATION_CHANGED, tenant, 3) == [
        change(tenant, "open", T0 + timedelta(hours=1), "corr-push", None),
        change(tenant, "claimed", t1, "corr-claim-ebay", "ebay"),
        change(tenant, "done", t2, "corr-pull-ebay", "ebay"),
    ]
    assert await written_changes(db, tenant) == 3


async def test_a_pull_reported_before_its_claim_is_consumed_claims_the_entry_and_is_done(
    client: Client, db: asyncpg.Connection, object_store: ObjectStore
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    await pushed_entry(client, db, object_store, tenant)
    t1 = T0 + timedelta(hours=2)
    pulled = acted(tenant, "pull-ebay", "ebay", "pull", "succeeded", t1)
    await wait_consumed(client, STREAM, ACTED, await publish(client, STREAM, pulled))
    assert await entry_row(db, tenant) == ("done", "ebay")

    # the claim requests that come later (the puller's own, and another channel's) are refused
    for channel in ("ebay", "woot"):
        seq = await publish(client, STREAM, claim(tenant, channel, t1 + timedelta(minutes=1)))
        await wait_consumed(client, STREAM, CLAIMS, seq)
    assert await entry_row(db, tenant) == ("done", "ebay")
    assert await events_of(client, STREAM, subjects.REALLOCATION_CHANGED, tenant, 3) == [
        change(tenant, "open", T0 + timedelta(hours=1), "corr-push", None),
        change(tenant, "claimed", t1, "corr-pull-ebay", "ebay"),
        change(tenant, "done", t1, "corr-pull-ebay", "ebay"),
    ]
    assert await written_changes(db, tenant) == 3
