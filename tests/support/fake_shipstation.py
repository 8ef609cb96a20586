"""A local fake of ShipStation V1's ``GET /shipments`` (real-shaped pages, Basic auth, the
rate-limit headers and a 429 with ``X-Rate-Limit-Reset``), served over HTTP so the real
aiohttp client is exercised."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

#: Customer data a real shipment carries; it must never leave ingest.
PII = ("Yoda Customer", "12223 Lower Swamp Rd", "yoda@example.com", "+1-555-0199", "Dagobah")


@dataclass(frozen=True)
class Seen:
    batch: str
    page: int
    include_items: str
    authorized: bool
    status: int
    at: float


@dataclass
class FakeShipstation:
    api_key: str
    api_secret: str
    batches: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)
    #: (batch, page) -> the status answered once (429 with X-Rate-Limit-Reset, or 500)
    answer_once: dict[tuple[str, int], int] = field(default_factory=dict)
    reset_s: int = 1
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    def url(self, batch: str, extra: str = "") -> str:
        return (
            f"http://127.0.0.1:{self.port}/shipments?batchId={batch}"
            f"&includeShipmentItems=False{extra}"
        )

    def requests_for(self, batch: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.batch == batch]

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def shipments(self, request: web.Request) -> web.Response:
        batch = request.query.get("batchId", "")
        page = int(request.query.get("page", "1"))
        include = request.query.get("includeShipmentItems", "")
        authorized = self._authorized(request)
        status = 200 if authorized else 401
        if authorized:
            status = self.answer_once.pop((batch, page), 200)
        self.seen.append(Seen(batch, page, include, authorized, status, time.monotonic()))
        if status == 429:
            headers = _limits(0, self.reset_s)
            return web.json_response({"message": "Too Many Requests"}, status=429, headers=headers)
        if status != 200:
            return web.json_response({"Message": "refused"}, status=status)
        pages = self.batches.get(batch, [[]])
        shipments = [
            {**s, "shipmentItems": s["shipmentItems"] if include == "True" else None}
            for s in pages[page - 1]
        ]
        body = {"shipments": shipments, "total": sum(map(len, pages)), "page": page}
        return web.json_response({**body, "pages": len(pages)}, headers=_limits(39, 60))


def _limits(remaining: int, reset_s: int) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": "40",
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(reset_s),
    }


def shipment(
    shipment_id: int,
    store_id: int,
    items: list[tuple[str, int]],
    *,
    voided: bool = False,
    create_date: str = "2026-03-02T08:00:00.1230000",
) -> dict[str, Any]:
    """A shipment as ShipStation's List Shipments returns it (customer data included)."""
    return {
        "shipmentId": shipment_id,
        "orderId": shipment_id + 7,
        "orderKey": f"key-{shipment_id}",
        "userId": "c9f06d74-95de-4263-9b04-e87095cababf",
        "customerEmail": PII[2],
        "orderNumber": f"ORD-{shipment_id}",
        "createDate": create_date,
        "shipDate": create_date[:10],
        "shipmentCost": 3.2,
        "insuranceCost": 0,
        "trackingNumber": f"9400{shipment_id}",
        "isReturnLabel": False,
        "batchNumber": "100301",
        "carrierCode": "stamps_com",
        "serviceCode": "usps_first_class_mail",
        "packageCode": "package",
        "confirmation": "delivery",
        "warehouseId": 16079,
        "voided": voided,
        "voidDate": "2026-03-02T09:00:00.0000000" if voided else None,
        "marketplaceNotified": True,
        "notifyErrorMessage": None,
        "shipTo": _ship_to(),
        "weight": {"value": 2, "units": "ounces", "WeightUnits": 1},
        "dimensions": None,
        "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0},
        "advancedOptions": {"storeId": store_id, "customField1": f"for {PII[0]}"},
        "shipmentItems": [
            _item(shipment_id * 10 + index, sku, quantity)
            for index, (sku, quantity) in enumerate(items)
        ],
        "labelData": None,
        "formData": None,
    }


def _ship_to() -> dict[str, Any]:
    return {
        "name": PII[0],
        "company": "",
        "street1": PII[1],
        "street2": None,
        "city": PII[4],
        "state": "CA",
        "postalCode": "90210",
        "country": "US",
        "phone": PII[3],
        "residential": True,
    }


def _item(item_id: int, sku: str, quantity: int) -> dict[str, Any]:
    return {
        "orderItemId": item_id,
        "lineItemKey": None,
        "sku": sku,
        "name": f"Gift for {PII[0]}",
        "imageUrl": None,
        "weight": None,
        "quantity": quantity,
        "unitPrice": 9.99,
        "taxAmount": None,
        "warehouseLocation": None,
        "options": [],
        "productId": None,
        "fulfillmentSku": None,
        "adjustment": False,
        "upc": None,
    }


@asynccontextmanager
async def serving(fake: FakeShipstation) -> AsyncIterator[FakeShipstation]:
    app = web.Application()
    app.router.add_get("/shipments", fake.shipments)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.port = server.port or 0
    try:
        yield fake
    finally:
        await server.close()
