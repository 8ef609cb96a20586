"""A permanent marketplace failure, from the channels service to the insights service through
one stream: insights opens ``out_of_stock`` for a sku the merged feed has none of, the
channel's pause is refused by Amazon (400: never retried), the action is audited ``failed``,
and insights keeps the insight open and the listing active (a failed action moves nothing)."""

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
from tests.channels.expectations import PATCH_QTY_0, amazon_calls
from tests.channels.harness import (
    Service,
    acted,
    audit_rows,
    channel_sections,
    channels_service,
    start_tenant,
)
from tests.support.jetstream import wait_consumed
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


async def test_a_permanent_failure_is_audited_failed_and_the_insight_stays_open(
    both: Service, unique_id: str
) -> None:
    tenant, sku = f"t-{unique_id}", f"A{unique_id}"
    sections: dict[str, Any] = channel_sections(tenant, dry_run=False)
    sections["amazon"]["insights"] = ["out_of_stock"]
    sections["ebay"]["insights"] = []
    sections["woot"]["insights"] = []
    both.fakes.amazon.fail_next("400", sku=sku)

    await start_tenant(both, tenant, sections, [f"{sku},0,20.00,"])
    (failed,) = await acted(both, tenant, 1)
    js = both.client.jetstream()
    message = await js.get_last_msg(both.stream, subjects.CHANNEL_ACTED)
    acted_durable = subjects.durable_name("insights", subjects.CHANNEL_ACTED)
    await wait_consumed(both.client, both.stream, acted_durable, message.seq or 0)

    insight_id = failed["insight_id"]
    assert (failed["action_id"], failed["action"], failed["outcome"], failed["answer"]) == (
        action_id(tenant, "amazon", insight_id, "pause"),
        "pause",
        "failed",
        '400: {"errors": [{"code": "Injected400"}]}',
    )
    assert (failed["status_after"], failed["price_after"]) == (None, None)
    assert amazon_calls(both, tenant) == [("PATCH", sku, PATCH_QTY_0)]
    assert await audit_rows(both, tenant) == [("amazon", sku, "pause", "failed", 1)]
    insights = await both.db.fetch(
        "SELECT channel, sku, kind, status FROM insights.insights WHERE tenant_id = $1"
        " AND insight_id = $2",
        tenant,
        insight_id,
    )
    assert [tuple(row) for row in insights] == [("amazon", sku, "out_of_stock", "open")]
    status = await both.db.fetchval(
        "SELECT status FROM insights.products WHERE tenant_id = $1 AND channel = 'amazon'"
        " AND sku = $2",
        tenant,
        sku,
    )
    assert status == "active"
