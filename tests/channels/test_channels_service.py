"""The channels service through JetStream, Postgres and S3, acting on local fake marketplaces:
dry-run records and sends nothing; real actions send the documented requests, once; a restock
unpauses; push and pull go through the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_channels.domain.decisions import action_id
from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.events import InsightGenerated
from relay_shared.storage import ObjectStore
from tests.channels.expectations import (
    PATCH_QTY_0,
    amazon_calls,
    amazon_url,
    audit,
    ebay_calls,
    woot_key,
)
from tests.channels.harness import (
    Service,
    acted,
    audit_rows,
    channel_sections,
    channels_service,
    insight,
    reallocation_opened,
    start_tenant,
    tenant_events,
)
from tests.support.jetstream import collect, publish, wait_consumed

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def service(
    isolated_bus: StackEndpoints, object_store: ObjectStore
) -> AsyncIterator[Service]:
    async with channels_service(isolated_bus, object_store) as running:
        yield running


def _dry_run_audits(
    service: Service, tenant: str, events: list[InsightGenerated], a: str, b: str
) -> list[dict[str, Any]]:
    """The three dry-run audit events: Amazon pause, eBay delist, Woot reprice."""
    ebay = service.fakes.ebay_url
    return [
        audit(
            tenant,
            events[0],
            "pause",
            "dry_run",
            True,
            {
                "method": "PATCH",
                "url": amazon_url(service, tenant, a),
                "body": PATCH_QTY_0,
            },
        ),
        audit(
            tenant,
            events[1],
            "delist",
            "dry_run",
            True,
            {
                "method": "POST",
                "url": f"{ebay}/sell/inventory/v1/offer/{{offerId}}/withdraw",
                "body": None,
                "lookup": f"{ebay}/sell/inventory/v1/offer?sku={a}",
            },
        ),
        audit(
            tenant,
            events[2],
            "reprice",
            "dry_run",
            True,
            {
                "method": "PUT",
                "url": woot_key(tenant, events[2], "reprice"),
                "body": f"sku,quantity,price,status\n{b},,19.50,\n",
            },
        ),
    ]


def _reprice_body(sku: str) -> dict[str, Any]:
    """eBay's bulk update of the sku's one offer to 18.00 (20.00 − 10 %)."""
    return {
        "requests": [
            {
                "sku": sku,
                "offers": [
                    {"offerId": f"O-{sku}", "price": {"value": "18.00", "currency": "USD"}},
                ],
            }
        ]
    }


def _real_audits(
    service: Service, tenant: str, events: list[InsightGenerated], a: str, b: str
) -> list[dict[str, Any]]:
    """The three sent actions' audit events: Amazon pause, eBay reprice, Woot pause."""
    ebay = service.fakes.ebay_url
    bulk = _reprice_body(b)
    key = woot_key(tenant, events[2], "pause")
    return [
        audit(
            tenant,
            events[0],
            "pause",
            "succeeded",
            False,
            {
                "method": "PATCH",
                "url": amazon_url(service, tenant, a),
                "body": PATCH_QTY_0,
            },
            f'{{"sku": "{a}", "status": "ACCEPTED", "submissionId": "sub-{a}", "issues": []}}',
            status_after="paused",
        ),
        audit(
            tenant,
            events[1],
            "reprice",
            "succeeded",
            False,
            {
                "method": "POST",
                "url": f"{ebay}/sell/inventory/v1/bulk_update_price_quantity",
                "body": bulk,
                "lookup": f"{ebay}/sell/inventory/v1/offer?sku={b}",
            },
            f'{{"responses": [{{"offerId": "O-{b}", "sku": "{b}", "statusCode": 200}}]}}',
            price_after="18.00",
        ),
        audit(
            tenant,
            events[2],
            "pause",
            "succeeded",
            False,
            {
                "method": "PUT",
                "url": key,
                "body": f"sku,quantity,price,status\n{a},0,,paused\n",
            },
            f"written {key}",
            status_after="paused",
            artifact_key=key,
        ),
    ]


async def test_dry_run_records_the_exact_requests_and_sends_nothing(
    service: Service, unique_id: str
) -> None:
    tenant, a, b = f"t-{unique_id}", f"A{unique_id}", f"B{unique_id}"
    await start_tenant(
        service,
        tenant,
        channel_sections(tenant, dry_run=True),
        [
            f"{a},0,20.00,19.50",
            f"{b},10,20.00,19.50",
        ],
    )
    events = [
        insight(tenant, "amazon", a),
        insight(tenant, "ebay", a),
        insight(tenant, "woot", b, kind="slow_mover", quantity=10),
    ]
    for event in events:
        await publish(service.client, service.stream, event)

    found = sorted(await acted(service, tenant, 3), key=lambda e: e["channel"])

    assert found == _dry_run_audits(service, tenant, events, a, b)
    assert amazon_calls(service, tenant) == []
    assert ebay_calls(service, a, b) == []
    assert not await service.store.exists(woot_key(tenant, events[2], "reprice"))
    assert await audit_rows(service, tenant) == [
        ("amazon", a, "pause", "dry_run", 1),
        ("ebay", a, "delist", "dry_run", 1),
        ("woot", b, "reprice", "dry_run", 1),
    ]


async def test_real_actions_send_the_documented_requests_once(
    service: Service, unique_id: str
) -> None:
    tenant, a, b = f"t-{unique_id}", f"A{unique_id}", f"B{unique_id}"
    await start_tenant(
        service,
        tenant,
        channel_sections(tenant, dry_run=False),
        [
            f"{a},0,20.00,19.50",
            f"{b},10,20.00,",
        ],
    )
    events = [
        insight(tenant, "amazon", a),
        insight(tenant, "ebay", b, kind="slow_mover", quantity=10),
        insight(tenant, "woot", a),
    ]
    for event in events:
        await publish(service.client, service.stream, event)
    found = sorted(await acted(service, tenant, 3), key=lambda e: e["channel"])
    # the same insight again (a new message): nothing is done twice
    again = events[0].model_copy(update={"event_id": f"again-{unique_id}"})
    seq = await publish(service.client, service.stream, again)
    await wait_consumed(service.client, service.stream, "channels-insight-generated", seq)

    key = woot_key(tenant, events[2], "pause")
    bulk = _reprice_body(b)
    assert found == _real_audits(service, tenant, events, a, b)
    assert amazon_calls(service, tenant) == [("PATCH", a, PATCH_QTY_0)]
    patch = next(r for r in service.fakes.amazon.calls() if f"/S-{tenant}/" in r.path)
    assert (patch.headers["x-amz-access-token"], patch.headers["content-type"]) == (
        "Atza|fake-access-token",
        "application/json",
    )
    assert ebay_calls(service, b) == [
        ("GET", "/sell/inventory/v1/offer", None),
        ("POST", "/sell/inventory/v1/bulk_update_price_quantity", bulk),
    ]
    assert (
        await service.store.get_bytes(key) == f"sku,quantity,price,status\n{a},0,,paused\n".encode()
    )
    assert len(await tenant_events(service, tenant, subjects.CHANNEL_ACTED)) == 3


async def test_a_restock_unpauses_with_the_channel_quantity(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    sections = channel_sections(tenant, dry_run=False)
    sections["amazon"]["allocation"] = {"share_pct": 50, "buffer": 1}
    await start_tenant(service, tenant, sections, [f"{a},9,20.00,"])

    restocked = insight(tenant, "amazon", a, status="resolved", quantity_now=9)
    await publish(service.client, service.stream, restocked)
    (event,) = await acted(service, tenant, 1)

    assert (event["action"], event["outcome"], event["status_after"]) == (
        "unpause",
        "succeeded",
        "active",
    )
    assert [body["patches"][0]["value"] for _, _, body in amazon_calls(service, tenant)] == [
        [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]
    ]


async def test_a_pull_asks_insights_to_claim_the_entry_once(
    service: Service, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False, pull=True), [])
    opened = reallocation_opened(tenant, f"entry-{unique_id}", "amazon", "ebay")
    await publish(service.client, service.stream, opened)
    await publish(service.client, service.stream, opened.model_copy(update={"event_id": "again"}))

    (event,) = await acted(service, tenant, 1)
    await collect(
        service.client,
        service.stream,
        subjects.REALLOCATION_CLAIM_REQUESTED,
        until=lambda claim: claim["tenant_id"] == tenant,
        timeout=30.0,
    )
    claims = await tenant_events(service, tenant, subjects.REALLOCATION_CLAIM_REQUESTED)

    aid = action_id(tenant, "ebay", opened.entry_id, "pull")
    assert (event["channel"], event["action"], event["outcome"], event["request"]) == (
        "ebay",
        "pull",
        "succeeded",
        {
            "method": "PUBLISH",
            "url": "reallocation.claim_requested",
            "body": {"entry_id": opened.entry_id, "channel": "ebay"},
        },
    )
    assert [(c["event_id"], c["entry_id"], c["channel"]) for c in claims] == [
        (f"reallocation.claim_requested:{aid}", opened.entry_id, "ebay"),
    ]


async def test_a_push_offers_the_slow_stock_through_the_bus(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    sections = channel_sections(tenant, dry_run=False)
    sections["amazon"]["insights"] = ["aged"]
    sections["amazon"]["actions"] = {"reallocation": "push"}
    await start_tenant(service, tenant, sections, [f"{a},7,20.00,"])

    event = insight(tenant, "amazon", a, "aged", quantity=7)
    await publish(service.client, service.stream, event)
    (pushed,) = await acted(service, tenant, 1)

    assert pushed == audit(
        tenant,
        event,
        "push",
        "succeeded",
        False,
        {
            "method": "PUBLISH",
            "url": "channel.acted",
            "body": {"origin": "amazon", "sku": a, "quantity": 7},
            "quantity": 7,
        },
        "published",
    )
    assert amazon_calls(service, tenant) == []
