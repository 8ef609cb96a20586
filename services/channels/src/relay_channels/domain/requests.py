"""The exact requests each plugin sends (pure): what is audited, dry-run or not.

A :class:`Change` says what an action sets on a listing; the builders turn it into the
marketplace's request. Credentials never appear here: the adapters add the access token as
a header when they send.

- Amazon SP-API Listings Items 2021-08-01: ``PATCH /listings/2021-08-01/items/{sellerId}/{sku}
  ?marketplaceIds=…`` with a JSON Patch body — ``merge`` of
  ``/attributes/fulfillment_availability`` (quantity: pause 0, unpause the channel's quantity),
  ``replace`` of ``/attributes/purchasable_offer`` (price); delist is ``DELETE`` of the item.
- eBay Sell Inventory: ``POST /sell/inventory/v1/bulk_update_price_quantity`` (offers of the
  sku, at most 25 a call; their ids come from ``GET /sell/inventory/v1/offer?sku=`` when the
  request is sent, so a dry-run records the body with ``offers: []`` and the lookup), and
  ``POST /sell/inventory/v1/offer/{offerId}/withdraw`` to delist.
- Woot: a listing update CSV (``sku,quantity,price,status``) written to the channel's prefix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from relay_shared.channel_plugins import ActionName

AMAZON_PRODUCT_TYPE = "PRODUCT"
EBAY_MAX_OFFERS_PER_CALL = 25
WOOT_COLUMNS = ("sku", "quantity", "price", "status")


@dataclass(frozen=True)
class Change:
    """What an action sets: a quantity (pause 0, unpause the channel's quantity), a price
    (reprice), or nothing (delist, push, pull)."""

    action: ActionName
    sku: str
    quantity: int | None = None
    price: Decimal | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class MarketRequest:
    """One HTTP request (or, for Woot, the file written; for push/pull, the event)."""

    method: str
    url: str
    body: Any = None
    #: eBay: the offer lookup that precedes the call (offer ids are filled in when sent)
    lookup: str | None = None

    def audit(self) -> dict[str, object]:
        """The audited form: method, url, body (and the lookup, when there is one)."""
        record: dict[str, object] = {"method": self.method, "url": self.url, "body": self.body}
        if self.lookup is not None:
            record["lookup"] = self.lookup
        return record


def amazon_request(
    endpoint: str, seller_id: str, marketplace_id: str, change: Change
) -> MarketRequest:
    path = f"/listings/2021-08-01/items/{quote(seller_id, safe='')}/{quote(change.sku, safe='')}"
    url = f"{endpoint.rstrip('/')}{path}?{urlencode({'marketplaceIds': marketplace_id})}"
    if change.action == "delist":
        return MarketRequest("DELETE", url)
    if change.price is not None:
        patch = {
            "op": "replace",
            "path": "/attributes/purchasable_offer",
            "value": [
                {
                    "marketplace_id": marketplace_id,
                    "currency": change.currency,
                    "our_price": [{"schedule": [{"value_with_tax": str(change.price)}]}],
                }
            ],
        }
    else:
        patch = {
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": change.quantity}],
        }
    return MarketRequest("PATCH", url, {"productType": AMAZON_PRODUCT_TYPE, "patches": [patch]})


def ebay_lookup_url(endpoint: str, sku: str) -> str:
    return f"{endpoint.rstrip('/')}/sell/inventory/v1/offer?{urlencode({'sku': sku})}"


def ebay_requests(endpoint: str, change: Change, offer_ids: Sequence[str]) -> list[MarketRequest]:
    """The calls for ``offer_ids`` (none yet in a dry-run): one withdraw per offer to delist,
    else bulk updates of at most 25 offers each."""
    lookup = ebay_lookup_url(endpoint, change.sku)
    base = endpoint.rstrip("/") + "/sell/inventory/v1"
    if change.action == "delist":
        ids = list(offer_ids) or ["{offerId}"]
        return [
            MarketRequest("POST", f"{base}/offer/{quote(oid, safe='{}')}/withdraw", None, lookup)
            for oid in ids
        ]
    chunks = [
        list(offer_ids[i : i + EBAY_MAX_OFFERS_PER_CALL])
        for i in range(0, len(offer_ids), EBAY_MAX_OFFERS_PER_CALL)
    ] or [[]]
    url = f"{base}/bulk_update_price_quantity"
    return [MarketRequest("POST", url, _ebay_body(change, chunk), lookup) for chunk in chunks]


def _ebay_body(change: Change, offer_ids: Sequence[str]) -> dict[str, Any]:
    def offer(offer_id: str) -> dict[str, Any]:
        item: dict[str, Any] = {"offerId": offer_id}
        if change.quantity is not None:
            item["availableQuantity"] = change.quantity
        if change.price is not None:
            item["price"] = {"value": str(change.price), "currency": change.currency}
        return item

    request: dict[str, Any] = {"sku": change.sku, "offers": [offer(o) for o in offer_ids]}
    if change.quantity is not None:
        request["shipToLocationAvailability"] = {"quantity": change.quantity}
    return {"requests": [request]}


def woot_request(key: str, change: Change) -> MarketRequest:
    """The listing update file: its key and its CSV text."""
    status = {"pause": "paused", "unpause": "active"}.get(change.action, "")
    row = {
        "sku": change.sku,
        "quantity": "" if change.quantity is None else str(change.quantity),
        "price": "" if change.price is None else str(change.price),
        "status": status,
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=WOOT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return MarketRequest("PUT", key, buffer.getvalue())


def bus_request(subject: str, body: dict[str, Any]) -> MarketRequest:
    """A push or pull: the event it publishes on the bus."""
    return MarketRequest("PUBLISH", subject, body)


def push_request(subject: str, origin: str, sku: str, quantity: int | None) -> dict[str, object]:
    """A push's audited request: the ``channel.acted`` it publishes, with the quantity offered
    in its body and, where insights reads it to size the reallocation entry, at the top
    level (``request["quantity"]``)."""
    body = {"origin": origin, "sku": sku, "quantity": quantity}
    return {**bus_request(subject, body).audit(), "quantity": quantity}
