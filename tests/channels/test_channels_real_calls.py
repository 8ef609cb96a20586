"""Real marketplace calls of the channels service, checked request by request against the
fake marketplaces: Amazon delists with ``DELETE`` of the listings item, eBay withdraws each
offer of the sku; more than 25 eBay offers go out 25 a call; an access token is refreshed
before a call once it is past its expiry, and a token the marketplace refuses is refreshed
once and the call sent once more."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.storage import ObjectStore
from tests.channels.expectations import amazon_url, audit
from tests.channels.harness import (
    Service,
    acted,
    audit_rows,
    channel_sections,
    channels_service,
    insight,
    start_tenant,
)
from tests.support.fake_marketplaces import AMAZON_TOKEN, EBAY_TOKEN, FakeMarketplace
from tests.support.jetstream import publish

pytestmark = pytest.mark.stack

BULK = "/sell/inventory/v1/bulk_update_price_quantity"
LOOKUP = "/sell/inventory/v1/offer"


@pytest.fixture(scope="module")
async def service(
    isolated_bus: StackEndpoints, object_store: ObjectStore
) -> AsyncIterator[Service]:
    async with channels_service(isolated_bus, object_store) as running:
        yield running


def _delisting(tenant: str) -> dict[str, Any]:
    sections = channel_sections(tenant, dry_run=False)
    sections["amazon"]["actions"]["out_of_stock"] = "delist"
    return sections


def _sent(fake: FakeMarketplace, since: int, header: str) -> list[tuple[str, str, str | None]]:
    """The requests the fake received after the first ``since``: method, path, token."""
    return [(r.method, r.path, r.headers.get(header)) for r in fake.requests[since:]]


async def test_amazon_delists_with_a_delete_of_the_listings_item(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    await start_tenant(service, tenant, _delisting(tenant), [f"{a},0,20.00,"])
    before = len(service.fakes.amazon.requests)

    event = insight(tenant, "amazon", a)
    await publish(service.client, service.stream, event)
    (delisted,) = await acted(service, tenant, 1)

    url = amazon_url(service, tenant, a)
    answer = f'{{"sku": "{a}", "status": "ACCEPTED", "submissionId": "sub-{a}", "issues": []}}'
    assert delisted == audit(
        tenant,
        event,
        "delist",
        "succeeded",
        False,
        {"method": "DELETE", "url": url, "body": None},
        answer,
        status_after="delisted",
    )
    (delete,) = [r for r in service.fakes.amazon.requests[before:] if "token" not in r.path]
    assert delete.method == "DELETE"
    assert (delete.path, delete.query, delete.body) == (
        f"/listings/2021-08-01/items/S-{tenant}/{a}",
        {"marketplaceIds": "ATVPDKIKX0DER"},
        None,
    )
    assert delete.headers["x-amz-access-token"].startswith(AMAZON_TOKEN)
    assert await audit_rows(service, tenant) == [("amazon", a, "delist", "succeeded", 1)]


async def test_ebay_delists_by_withdrawing_every_offer_of_the_sku(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    offers = [f"W1-{unique_id}", f"W2-{unique_id}"]
    service.fakes.ebay.offers[a] = offers
    await start_tenant(service, tenant, _delisting(tenant), [f"{a},0,20.00,"])
    before = len(service.fakes.ebay.requests)

    event = insight(tenant, "ebay", a)
    await publish(service.client, service.stream, event)
    (delisted,) = await acted(service, tenant, 1)

    ebay = service.fakes.ebay_url
    lookup = f"{ebay}{LOOKUP}?sku={a}"
    calls = [
        {"method": "POST", "url": f"{ebay}{LOOKUP}/{oid}/withdraw", "body": None, "lookup": lookup}
        for oid in offers
    ]
    answer = json.dumps([{"listingId": f"L-{oid}", "warnings": []} for oid in offers])
    assert delisted == audit(
        tenant,
        event,
        "delist",
        "succeeded",
        False,
        {"calls": calls},
        answer,
        status_after="delisted",
    )
    sent = [
        (r.method, r.path, r.query, r.body)
        for r in service.fakes.ebay.requests[before:]
        if "token" not in r.path
    ]
    assert sent == [
        ("GET", LOOKUP, {"sku": a}, None),
        ("POST", f"{LOOKUP}/{offers[0]}/withdraw", {}, None),
        ("POST", f"{LOOKUP}/{offers[1]}/withdraw", {}, None),
    ]
    assert service.fakes.ebay.withdrawn[-2:] == offers


async def test_more_than_25_ebay_offers_go_out_25_a_call(service: Service, unique_id: str) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    offers = [f"M{n:02d}-{unique_id}" for n in range(30)]
    service.fakes.ebay.offers[a] = offers
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False), [f"{a},8,20.00,"])
    before = len(service.fakes.ebay.requests)

    await publish(
        service.client, service.stream, insight(tenant, "ebay", a, "slow_mover", quantity=8)
    )
    (repriced,) = await acted(service, tenant, 1)

    def body(chunk: list[str]) -> dict[str, Any]:
        price = {"value": "18.00", "currency": "USD"}
        return {"requests": [{"sku": a, "offers": [{"offerId": o, "price": price} for o in chunk]}]}

    sent = [
        (r.method, r.path, r.body)
        for r in service.fakes.ebay.requests[before:]
        if "token" not in r.path
    ]
    assert sent == [
        ("GET", LOOKUP, None),
        ("POST", BULK, body(offers[:25])),
        ("POST", BULK, body(offers[25:])),
    ]
    assert (repriced["outcome"], repriced["price_after"]) == ("succeeded", "18.00")
    assert [c["body"] for c in repriced["request"]["calls"]] == [
        body(offers[:25]),
        body(offers[25:]),
    ]
    assert [service.fakes.ebay.revisions[o] for o in offers] == [1] * 30


async def test_a_token_past_its_expiry_is_refreshed_before_the_call(
    service: Service, unique_id: str
) -> None:
    """Tokens answered with ``expires_in: 60`` are within the client's refresh margin from
    the start: after the token the client held is revoked (its first call is refused and
    refreshed), every call is preceded by a new exchange and none is refused."""
    tenant, a, b = f"t-{unique_id}", f"A{unique_id}", f"B{unique_id}"
    amazon = service.fakes.amazon
    await start_tenant(
        service, tenant, channel_sections(tenant, dry_run=False), [f"{a},0,20.00,", f"{b},0,1,"]
    )
    amazon.token_lifetime_s = 60
    amazon.revoke_tokens()
    try:
        before, held = len(amazon.requests), list(amazon.issued)
        for count, sku in enumerate((a, b), start=1):
            await publish(service.client, service.stream, insight(tenant, "amazon", sku))
            await acted(service, tenant, count)
    finally:
        amazon.token_lifetime_s = 3600

    first, second = (f"{AMAZON_TOKEN}.{len(held) + n}" for n in (1, 2))
    items = f"/listings/2021-08-01/items/S-{tenant}"
    assert _sent(amazon, before, "x-amz-access-token") == [
        ("PATCH", f"{items}/{a}", held[-1]),
        ("POST", "/auth/o2/token", None),
        ("PATCH", f"{items}/{a}", first),
        ("POST", "/auth/o2/token", None),
        ("PATCH", f"{items}/{b}", second),
    ]
    assert await audit_rows(service, tenant) == [
        ("amazon", a, "pause", "succeeded", 1),
        ("amazon", b, "pause", "succeeded", 1),
    ]


async def test_a_refused_token_is_refreshed_once_and_the_call_sent_again(
    service: Service, unique_id: str
) -> None:
    tenant, a = f"t-{unique_id}", f"A{unique_id}"
    amazon, ebay = service.fakes.amazon, service.fakes.ebay
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False), [f"{a},0,20.00,"])
    # a token each client holds now, then revoked by the marketplace
    warm = f"W{unique_id}"
    await start_tenant(
        service,
        f"w-{unique_id}",
        channel_sections(f"w-{unique_id}", dry_run=False),
        [f"{warm},0,2,"],
    )
    await publish(service.client, service.stream, insight(f"w-{unique_id}", "amazon", warm))
    await publish(service.client, service.stream, insight(f"w-{unique_id}", "ebay", warm))
    await acted(service, f"w-{unique_id}", 2)
    amazon.revoke_tokens()
    ebay.revoke_tokens()
    held_amazon, held_ebay = list(amazon.issued)[-1], list(ebay.issued)[-1]
    amazon_before, ebay_before = len(amazon.requests), len(ebay.requests)

    await publish(service.client, service.stream, insight(tenant, "amazon", a))
    await publish(service.client, service.stream, insight(tenant, "ebay", a))
    found = sorted(await acted(service, tenant, 2), key=lambda e: e["channel"])

    items = f"/listings/2021-08-01/items/S-{tenant}/{a}"
    assert _sent(amazon, amazon_before, "x-amz-access-token") == [
        ("PATCH", items, held_amazon),
        ("POST", "/auth/o2/token", None),
        ("PATCH", items, list(amazon.issued)[-1]),
    ]
    fresh = f"Bearer {list(ebay.issued)[-1]}"
    assert _sent(ebay, ebay_before, "authorization")[1:] == [
        ("POST", "/identity/v1/oauth2/token", _basic(ebay, ebay_before + 1)),
        ("GET", LOOKUP, fresh),
        ("POST", f"{LOOKUP}/O-{a}/withdraw", fresh),
    ]
    assert _sent(ebay, ebay_before, "authorization")[0] == ("GET", LOOKUP, f"Bearer {held_ebay}")
    assert list(ebay.issued)[-1] != held_ebay
    assert held_ebay.startswith(EBAY_TOKEN)
    assert [(e["channel"], e["action"], e["outcome"]) for e in found] == [
        ("amazon", "pause", "succeeded"),
        ("ebay", "delist", "succeeded"),
    ]


def _basic(fake: FakeMarketplace, index: int) -> str | None:
    return fake.requests[index].headers.get("authorization")
