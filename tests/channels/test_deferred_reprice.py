"""A deferred eBay reprice is not dropped: past the listing's daily revisions it is audited
``deferred`` with the next UTC day as its time; once the service's clock (moved through
``APP_CLOCK_OFFSET_FILE``) reaches that day, the sweep sends it and the same audit row
finishes ``succeeded``, announced by a ``channel.acted`` of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relay_channels.domain.decisions import action_id
from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.storage import ObjectStore
from tests.channels.expectations import ebay_calls
from tests.channels.harness import (
    Service,
    acted,
    audit_rows,
    channel_sections,
    channels_service,
    insight,
    start_tenant,
)
from tests.support.jetstream import publish

pytestmark = pytest.mark.stack

DAY_S = 86_400


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("channels-clock") / "offset"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
async def service(
    isolated_bus: StackEndpoints, object_store: ObjectStore, clock_file: Path
) -> AsyncIterator[Service]:
    async with channels_service(
        isolated_bus,
        object_store,
        clock_offset_file=clock_file,
        channels_sweep_interval_s=0.2,
    ) as running:
        yield running


async def test_a_deferred_reprice_is_sent_once_the_next_day_comes(
    service: Service, unique_id: str, clock_file: Path
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False), [f"{a},10,20.00,"])
    today = datetime.now(UTC).date()
    await service.db.execute(
        "INSERT INTO ebay_revisions (tenant_id, channel, sku, day, revisions)"
        " VALUES ($1, 'ebay', $2, $3, 250)",
        tenant,
        a,
        today,
    )
    event = insight(tenant, "ebay", a, "slow_mover", quantity=10)
    aid = action_id(tenant, "ebay", event.insight_id, "reprice")

    await publish(service.client, service.stream, event)
    (deferred,) = await acted(service, tenant, 1)
    not_before = await service.db.fetchval(
        "SELECT not_before FROM actions WHERE action_id = $1", aid
    )
    assert (deferred["outcome"], deferred["answer"]) == (
        "deferred",
        f"deferred: {a} has had its 250 eBay revisions today",
    )
    assert not_before == datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    assert ebay_calls(service, a) == []

    await asyncio.to_thread(clock_file.write_text, str(DAY_S))
    resumed = (await acted(service, tenant, 2))[1]

    assert (resumed["event_id"], resumed["outcome"], resumed["price_after"]) == (
        f"{subjects.CHANNEL_ACTED}:{aid}:resumed",
        "succeeded",
        "18.00",
    )
    assert resumed["answer"] == (
        f'{{"responses": [{{"offerId": "O-{a}", "sku": "{a}", "statusCode": 200}}]}}'
    )
    price = {"value": "18.00", "currency": "USD"}
    assert ebay_calls(service, a) == [
        ("GET", "/sell/inventory/v1/offer", None),
        (
            "POST",
            "/sell/inventory/v1/bulk_update_price_quantity",
            {"requests": [{"sku": a, "offers": [{"offerId": f"O-{a}", "price": price}]}]},
        ),
    ]
    assert await audit_rows(service, tenant) == [("ebay", a, "reprice", "succeeded", 2)]
    revisions = await service.db.fetch(
        "SELECT day, revisions FROM ebay_revisions WHERE tenant_id = $1 ORDER BY day", tenant
    )
    assert [tuple(r) for r in revisions] == [(today, 250), (today + timedelta(days=1), 1)]
