"""A pull from end to end, with the channels service and the insights service on one stream:
insights opens a reallocation entry for a slow listing (amazon) that an out-of-stock channel
(ebay) wants; ebay's pull asks for it through the bus and reports it; the entry goes
open → claimed → done in insights' table and in ``reallocation.changed`` (the gateway's copy)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_insights.app import InsightsApp
from relay_insights.domain.transitions import insight_id
from relay_insights.settings import InsightsSettings
from relay_shared import subjects
from relay_shared.listings import Listing, Listings, canonical_csv
from relay_shared.storage import ObjectStore
from tests.channels.harness import (
    T0,
    Service,
    acted,
    audit_rows,
    channel_sections,
    channels_service,
    start_tenant,
)
from tests.insights.daily_support import events_of, import_listings
from tests.support.jetstream import wait_consumed
from tests.support.polling import eventually_async
from tests.support.running import running

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def both(isolated_bus: StackEndpoints, object_store: ObjectStore) -> AsyncIterator[Service]:
    """The channels service and the insights service on the same stream."""
    async with channels_service(isolated_bus, object_store) as service:
        settings = InsightsSettings.from_env(
            isolated_bus.as_env(), nats_stream=service.stream, outbox_interval_s=0.2
        )
        async with running([InsightsApp(settings)]):
            yield service


@pytest.fixture
async def insights_db(isolated_bus: StackEndpoints) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(
        isolated_bus.database_url, server_settings={"search_path": "insights", "timezone": "UTC"}
    )
    try:
        yield conn
    finally:
        await conn.close()


async def test_a_pull_takes_an_entry_from_open_to_claimed_to_done(
    both: Service, insights_db: asyncpg.Connection, unique_id: str
) -> None:
    tenant, sku = f"t-{unique_id}", f"Q{unique_id}"
    sections = channel_sections(tenant, dry_run=False, pull=True)
    sections["amazon"]["insights"] = sections["woot"]["insights"] = []
    sections["ebay"]["insights"] = ["reallocation_candidate"]
    await start_tenant(both, tenant, sections, [])
    listed = (T0 - timedelta(days=60)).date()
    for channel, quantity in (("ebay", 0), ("amazon", 5)):  # ebay wants amazon's slow stock
        items = [Listing(sku, "Kettle", quantity, "active", listed)]
        seq = await import_listings(
            both.client, both.stream, both.store, tenant, channel, items, T0
        )
        await wait_consumed(both.client, both.stream, "insights-listings-imported", seq)
    sha = hashlib.sha256(canonical_csv(Listings(tuple(items)))).hexdigest()  # amazon's file

    changes = await events_of(both.client, both.stream, subjects.REALLOCATION_CHANGED, tenant, 3)

    entry = insight_id(
        tenant,
        "amazon",
        sku,
        "reallocation_candidate",
        f"{subjects.LISTINGS_IMPORTED}:{tenant}:amazon:{sha}",  # the import opened it
    )
    assert [(c["entry_id"], c["state"], c["claimed_by"]) for c in changes] == [
        (entry, "open", None),
        (entry, "claimed", "ebay"),
        (entry, "done", "ebay"),
    ]
    assert {(c["origin"], c["target"], c["sku"], c["quantity"]) for c in changes} == {
        ("amazon", "ebay", sku, 5)
    }

    async def stored() -> tuple[Any, ...] | None:
        row = await insights_db.fetchrow(
            "SELECT entry_id, state, claimed_by FROM reallocation WHERE tenant_id = $1", tenant
        )
        return None if row is None or row["state"] != "done" else tuple(row)

    assert await eventually_async(stored, timeout=30.0, what="the entry done") == (
        entry,
        "done",
        "ebay",
    )
    (pulled,) = await acted(both, tenant, 1)
    assert (pulled["channel"], pulled["action"], pulled["outcome"], pulled["insight_id"]) == (
        "ebay",
        "pull",
        "succeeded",
        entry,
    )
    assert await audit_rows(both, tenant) == [("ebay", sku, "pull", "succeeded", 1)]
