"""The channels service's marketplace metrics on its ``/metrics``: every HTTP exchange with a
marketplace counted by plugin, operation and outcome, and the 429s received, after a known
sequence of calls against the fake marketplaces (a service of its own: the counts start at
zero)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from relay_cli.stack import StackEndpoints, free_port
from relay_shared.storage import ObjectStore
from tests.channels.harness import (
    Service,
    acted,
    channel_sections,
    channels_service,
    insight,
    start_tenant,
)
from tests.support.jetstream import publish
from tests.telemetry.scraping import scrape

pytestmark = pytest.mark.stack

CALLS = "relay_marketplace_calls_total"
THROTTLED = "relay_marketplace_throttled_total"
PORT = free_port()


@pytest.fixture(scope="module")
async def service(
    isolated_bus: StackEndpoints, object_store: ObjectStore
) -> AsyncIterator[Service]:
    async with channels_service(
        isolated_bus, object_store, metrics_port=PORT, metrics_host="127.0.0.1"
    ) as running:
        yield running


async def test_marketplace_calls_and_429s_are_counted(service: Service, unique_id: str) -> None:
    tenant, a, b = f"t-{unique_id}", f"A{unique_id}", f"B{unique_id}"
    await start_tenant(
        service,
        tenant,
        channel_sections(tenant, dry_run=False),
        [f"{a},0,20.00,", f"{b},10,20.00,"],
    )
    service.fakes.amazon.fail_next("429", sku=a)
    await publish(service.client, service.stream, insight(tenant, "amazon", a))
    await acted(service, tenant, 1)
    service.fakes.amazon.fail_next("400", sku=b)
    await publish(service.client, service.stream, insight(tenant, "amazon", b))
    await acted(service, tenant, 2)
    service.fakes.ebay.fail_next("503")
    await publish(
        service.client, service.stream, insight(tenant, "ebay", b, "slow_mover", quantity=10)
    )
    outcomes = [e["outcome"] for e in await acted(service, tenant, 3)]

    scraped = await scrape(f"http://127.0.0.1:{PORT}")
    calls = {
        (labels["channel"], labels["operation"], labels["outcome"]): value
        for name, labels, value in scraped.samples
        if name == CALLS
    }
    assert outcomes == ["succeeded", "failed", "succeeded"]
    assert calls == {
        ("amazon", "token", "ok"): 1.0,
        ("amazon", "listings_patch", "throttled"): 1.0,
        ("amazon", "listings_patch", "ok"): 1.0,
        ("amazon", "listings_patch", "rejected"): 1.0,
        ("ebay", "token", "ok"): 1.0,
        ("ebay", "offer_lookup", "unavailable"): 1.0,
        ("ebay", "offer_lookup", "ok"): 1.0,
        ("ebay", "bulk_update", "ok"): 1.0,
    }
    assert scraped.value(THROTTLED, channel="amazon") == 1.0
    assert scraped.value(THROTTLED, channel="ebay") == 0.0
