"""A push, from the channels service to the insights service through one stream: the
reallocation entry insights opens holds the quantity the channel offered (the insight's
quantity), not the whole stock insights holds for the listing. Insights reads the offer from
the ``channel.acted`` request the channels service wrote, so a push request that put it
anywhere else would open the entry with the stock (7) instead of the offer (3)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_channels.domain.decisions import action_id
from relay_cli.stack import StackEndpoints
from relay_insights.app import InsightsApp
from relay_insights.settings import InsightsSettings
from relay_shared import subjects
from relay_shared.storage import ObjectStore
from tests.channels.harness import (
    Service,
    acted,
    channel_sections,
    channels_service,
    insight,
    start_tenant,
)
from tests.support.jetstream import collect, publish, wait_consumed
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


async def test_a_push_opens_an_entry_of_the_quantity_offered(both: Service, unique_id: str) -> None:
    tenant, sku = f"t-{unique_id}", f"A{unique_id}"
    sections = channel_sections(tenant, dry_run=False)
    sections["amazon"]["insights"] = ["aged"]
    sections["amazon"]["actions"] = {"reallocation": "push"}
    await start_tenant(both, tenant, sections, [f"{sku},7,20.00,"])
    merged = (await both.client.jetstream().stream_info(both.stream)).state.last_seq
    insights_merged = subjects.durable_name("insights", subjects.OFFERS_MERGED)
    await wait_consumed(both.client, both.stream, insights_merged, merged)  # 7 in stock
    await publish(both.client, both.stream, insight(tenant, "amazon", sku, "aged", quantity=3))

    (pushed,) = await acted(both, tenant, 1)
    assert (pushed["action"], pushed["outcome"]) == ("push", "succeeded")

    aid = action_id(tenant, "amazon", f"ins-{tenant}-amazon-{sku}-aged", "push")
    entry = f"push:{aid}"
    found: list[dict[str, Any]] = []

    def opened(payload: dict[str, Any]) -> bool:
        if payload["tenant_id"] == tenant and payload["entry_id"] == entry:
            found.append(payload)
        return bool(found)

    await collect(both.client, both.stream, subjects.REALLOCATION_CHANGED, until=opened)
    (change,) = found
    assert {k: change[k] for k in ("origin", "target", "sku", "quantity", "reason", "state")} == {
        "origin": "amazon",
        "target": None,
        "sku": sku,
        "quantity": 3,
        "reason": "pushed",
        "state": "open",
    }
    assert pushed["request"] == {
        "method": "PUBLISH",
        "url": "channel.acted",
        "body": {"origin": "amazon", "sku": sku, "quantity": 3},
        "quantity": 3,
    }
