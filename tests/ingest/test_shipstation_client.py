"""Ingest's ShipStation client and shipment rules: pacing (40/min, X-Rate-Limit-Reset),
error classes, page URLs and what a shipment becomes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from relay_ingest.adapters.shipstation_api import Credentials, ShipstationApi
from relay_ingest.domain.request_pacing import RequestPacer
from relay_ingest.domain.shipments import (
    MalformedShipmentsError,
    decide,
    page_url,
    parse_page,
)
from relay_shared.errors import PermanentError, TransientError
from relay_shared.shipstation_urls import ResourceUrlRefusedError, check_resource_url
from tests.support.fake_shipstation import PII, FakeShipstation, serving, shipment

CREDENTIALS = Credentials("key", "secret")


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
async def fake() -> AsyncIterator[FakeShipstation]:
    async with serving(FakeShipstation("key", "secret")) as server:
        server.batches["b"] = [[shipment(1, 1, [("A", 1)])], [shipment(2, 1, [("B", 2)])]]
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_requests_beyond_the_minute_budget_wait(
    fake: FakeShipstation, session: aiohttp.ClientSession
) -> None:
    time = FakeTime()
    api = ShipstationApi(session, per_minute=2, sleep=time.sleep, clock=time.clock)

    pages = [await api.get_json(page_url(fake.url("b"), n), CREDENTIALS) for n in (1, 2, 1)]

    assert [page["page"] for page in pages] == [1, 2, 1]
    assert time.slept == [60.0]


async def test_a_429_is_waited_out_for_x_rate_limit_reset(
    fake: FakeShipstation, session: aiohttp.ClientSession
) -> None:
    fake.reset_s = 7
    fake.answer_once[("b", 1)] = 429
    time = FakeTime()
    api = ShipstationApi(session, sleep=time.sleep, clock=time.clock)

    page = await api.get_json(page_url(fake.url("b"), 1), CREDENTIALS)

    assert page["shipments"][0]["shipmentId"] == 1
    assert time.slept == [7.0]
    assert [s.status for s in fake.requests_for("b")] == [429, 200]


async def test_failures_are_classified(
    fake: FakeShipstation, session: aiohttp.ClientSession
) -> None:
    api = ShipstationApi(session)
    fake.answer_once[("b", 2)] = 503

    with pytest.raises(PermanentError) as refused:
        await api.get_json(fake.url("b"), Credentials("key", "wrong"))
    with pytest.raises(TransientError) as down:
        await api.get_json(page_url(fake.url("b"), 2), CREDENTIALS)
    with pytest.raises(TransientError) as unreachable:
        await api.get_json("http://127.0.0.1:1/shipments", CREDENTIALS)

    assert (refused.value.code, down.value.code, unreachable.value.code) == (
        "shipstation_unauthorized",
        "shipstation_unavailable",
        "shipstation_unavailable",
    )


def test_the_pacer_honours_remaining_zero() -> None:
    pacer = RequestPacer(per_minute=40)
    pacer.sent(0.0)
    pacer.answered(0.5, 200, {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "12"})

    assert (pacer.delay(0.5), pacer.delay(12.5)) == (12.0, 0.0)


def test_page_urls_ask_for_items_and_the_page() -> None:
    url = "https://ssapi.shipstation.com/shipments?batchId=7&includeShipmentItems=False&page=9"

    assert page_url(url, 2) == (
        "https://ssapi.shipstation.com/shipments?batchId=7&includeShipmentItems=True&page=2"
    )


def test_a_page_keeps_no_customer_data() -> None:
    page = parse_page({"shipments": [shipment(5, 42, [("A", 1), ("A", 2), ("", 3)])], "pages": 2})

    assert page.pages == 2
    assert page.shipments[0].items[0].model_dump() == {"sku": "A", "quantity": 3}
    assert len(page.shipments[0].items) == 1
    assert page.shipments[0].shipped_at == datetime(2026, 3, 2, 16, 0, 0, 123000, tzinfo=UTC)
    assert (page.shipments[0].store_id, page.shipments[0].order_id) == ("42", "ORD-5")
    assert [word for word in PII if word in repr(page)] == []
    assert decide(page.shipments[0], {"42": "woot"}) == "emit"
    with pytest.raises(MalformedShipmentsError):
        parse_page({"shipments": [{"voided": False}]})


@pytest.mark.parametrize(
    "url",
    [
        "http://ssapi.shipstation.com/shipments",
        "https://user:pw@ssapi.shipstation.com/shipments",
        "https://evil.example.com/shipments",
        "https://ssapi.shipstation.com.evil.example/x",
    ],
)
def test_credentials_go_only_to_shipstation(url: str) -> None:
    with pytest.raises(ResourceUrlRefusedError):
        check_resource_url(url, r"^ssapi\d*\.shipstation\.com$", allow_http=False)
