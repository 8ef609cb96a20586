"""The Amazon client keeps to SP-API Listings Items' rate (5 requests/s, burst 10, per
selling partner): a burst of 30 pauses for one seller, handled 8 at a time by the service,
reaches the fake Amazon (which answers 429 to any request above that rate) as exactly 30
PATCHes and one token exchange, none of them refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from relay_cli.stack import StackEndpoints
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

pytestmark = pytest.mark.stack

BURST = 30


@pytest.fixture(scope="module")
async def service(
    isolated_bus: StackEndpoints, object_store: ObjectStore
) -> AsyncIterator[Service]:
    # a call's own timeout well above the harness' 1 s: this test is about pacing, and a busy
    # machine must not turn a slow answer into a timed-out action
    async with channels_service(
        isolated_bus, object_store, channels_workers=8, channels_timeout_s=10.0
    ) as running:
        yield running


async def test_a_burst_of_30_actions_keeps_to_5_per_second_burst_10(
    service: Service, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    skus = [f"R{n:02d}{unique_id}" for n in range(BURST)]
    await start_tenant(
        service, tenant, channel_sections(tenant, dry_run=False), [f"{s},0,20.00," for s in skus]
    )

    for sku in skus:
        await publish(service.client, service.stream, insight(tenant, "amazon", sku))
    found = await acted(service, tenant, BURST, timeout=60.0)

    amazon = service.fakes.amazon
    assert sorted((e["sku"], e["outcome"]) for e in found) == [(s, "succeeded") for s in skus]
    assert amazon.throttled == 0
    assert sorted(r.path.rsplit("/", 1)[-1] for r in amazon.calls("PATCH")) == skus
    assert [r.path for r in amazon.requests if r.method == "POST"] == ["/auth/o2/token"]
