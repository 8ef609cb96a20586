"""The channels service when things go wrong: transient errors are retried and permanent ones
are not; a hanging or garbage marketplace times out without holding up the next action;
retries that run out are audited; two copies of an insight send once; reprices respect the
floor; eBay's daily revision limit defers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.storage import ObjectStore
from tests.channels.expectations import (
    amazon_calls,
    ebay_calls,
)
from tests.channels.harness import (
    Service,
    acted,
    audit_rows,
    channel_sections,
    channels_service,
    insight,
    start_tenant,
    tenant_events,
)
from tests.support.jetstream import publish, wait_consumed

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def service(
    isolated_bus: StackEndpoints, object_store: ObjectStore
) -> AsyncIterator[Service]:
    async with channels_service(isolated_bus, object_store) as running:
        yield running


async def test_transient_errors_are_retried_and_permanent_ones_are_not(
    service: Service, unique_id: str
) -> None:
    tenant, a, b = f"t-{unique_id}", f"A{unique_id}", f"B{unique_id}"
    await start_tenant(
        service,
        tenant,
        channel_sections(tenant, dry_run=False),
        [
            f"{a},0,20.00,",
            f"{b},0,20.00,",
        ],
    )
    service.fakes.amazon.fail_next("503", "429", sku=a)
    await publish(service.client, service.stream, insight(tenant, "amazon", a))
    first = await acted(service, tenant, 1)
    service.fakes.amazon.fail_next("400", sku=b)
    await publish(service.client, service.stream, insight(tenant, "amazon", b))
    second = (await acted(service, tenant, 2))[1]

    assert (first[0]["sku"], first[0]["outcome"], first[0]["status_after"]) == (
        a,
        "succeeded",
        "paused",
    )
    assert (second["sku"], second["outcome"], second["status_after"]) == (b, "failed", None)
    assert second["answer"] == '400: {"errors": [{"code": "Injected400"}]}'
    assert [(m, sku) for m, sku, _ in amazon_calls(service, tenant)] == [
        ("PATCH", a),
        ("PATCH", a),
        ("PATCH", a),
        ("PATCH", b),
    ]
    assert await audit_rows(service, tenant) == [
        ("amazon", a, "pause", "succeeded", 2),
        ("amazon", b, "pause", "failed", 1),
    ]


async def test_a_hanging_or_garbage_marketplace_times_out_and_the_next_action_goes_on(
    service: Service, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    a, b, c = (f"{x}{unique_id}" for x in "ABC")
    await start_tenant(
        service,
        tenant,
        channel_sections(tenant, dry_run=False),
        [
            f"{a},0,20.00,",
            f"{b},0,20.00,",
            f"{c},0,20.00,",
        ],
    )
    service.fakes.amazon.fail_next("hang", sku=a)
    service.fakes.amazon.fail_next("garbage", sku=b)
    for sku in (a, b, c):
        await publish(service.client, service.stream, insight(tenant, "amazon", sku))

    found = {e["sku"]: (e["outcome"], e["answer"]) for e in await acted(service, tenant, 3)}

    assert found == {
        a: ("timed_out", "no answer within 1.0s"),
        b: ("timed_out", "garbage answer (200): '<html>oops'"),
        c: (
            "succeeded",
            f'{{"sku": "{c}", "status": "ACCEPTED", "submissionId": "sub-{c}", "issues": []}}',
        ),
    }


async def test_an_action_whose_retries_run_out_is_audited_failed(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False), [f"{a},0,20.00,"])
    service.fakes.amazon.fail_next("500", "500", "500", sku=a)

    await publish(service.client, service.stream, insight(tenant, "amazon", a))
    (event,) = await acted(service, tenant, 1)

    reason = 'TransientError(\'500: {"errors": [{"code": "Injected500"}]}\')'
    assert (event["outcome"], event["answer"]) == (
        "failed",
        f"deliveries_exhausted: gave up after 3 deliveries: {reason}",
    )
    assert len(amazon_calls(service, tenant)) == 3
    assert await audit_rows(service, tenant) == [("amazon", a, "pause", "failed", 3)]


async def test_two_copies_of_an_insight_at_once_send_it_once(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False), [f"{a},0,20.00,"])
    service.fakes.amazon.fail_next("hang", sku=a)
    event = insight(tenant, "amazon", a)

    await publish(service.client, service.stream, event)
    await publish(service.client, service.stream, event.model_copy(update={"event_id": "copy"}))
    (acted_once,) = await acted(service, tenant, 1)
    seq = await publish(
        service.client, service.stream, event.model_copy(update={"event_id": "late"})
    )
    await wait_consumed(service.client, service.stream, "channels-insight-generated", seq)

    assert (acted_once["outcome"], acted_once["answer"]) == ("timed_out", "no answer within 1.0s")
    assert len(amazon_calls(service, tenant)) == 1
    assert len(await tenant_events(service, tenant, subjects.CHANNEL_ACTED)) == 1


@pytest.mark.parametrize(
    ("floor", "row", "outcome", "price"),
    [
        ("map", "20.00,19.50", "succeeded", "19.50"),  # -5 % = 19.00, below MAP
        ("min_price", "20.00,19.50", "succeeded", "19.00"),  # MAP not the floor named
        ("min_price", "5.20,", "succeeded", "5.00"),  # -5 % = 4.94, below min_price
        ("map", "19.50,19.50", "failed", None),  # at the floor already
    ],
)
async def test_a_reprice_never_goes_below_the_floor(
    service: Service, unique_id: str, floor: str, row: str, outcome: str, price: str | None
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    sections = channel_sections(tenant, dry_run=False, floor=floor)
    await start_tenant(service, tenant, sections, [f"{a},10,{row}"])

    await publish(
        service.client, service.stream, insight(tenant, "amazon", a, "slow_mover", quantity=10)
    )
    (event,) = await acted(service, tenant, 1)

    assert (event["action"], event["outcome"], event["price_after"]) == ("reprice", outcome, price)
    sent = [
        body["patches"][0]["value"][0]["our_price"] for _, _, body in amazon_calls(service, tenant)
    ]
    assert sent == ([] if price is None else [[{"schedule": [{"value_with_tax": price}]}]])
    if price is None:
        assert event["answer"] == (
            "at_floor: price 19.50 cannot go down: -5% gives 18.53, the floor is 19.50"
        )


async def test_an_ebay_reprice_past_the_daily_revisions_is_deferred(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False), [f"{a},10,20.00,"])
    await service.db.execute(
        "INSERT INTO ebay_revisions (tenant_id, channel, sku, day, revisions)"
        " VALUES ($1, 'ebay', $2, current_date, 250)",
        tenant,
        a,
    )

    await publish(
        service.client, service.stream, insight(tenant, "ebay", a, "slow_mover", quantity=10)
    )
    (event,) = await acted(service, tenant, 1)

    assert (event["outcome"], event["answer"], event["price_after"]) == (
        "deferred",
        f"deferred: {a} has had its 250 eBay revisions today",
        None,
    )
    assert ebay_calls(service, a) == []
