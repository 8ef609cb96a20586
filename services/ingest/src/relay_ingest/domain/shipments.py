"""ShipStation V1 shipments → ``order.shipped`` (pure: no I/O).

A page of ``GET /shipments`` is read through lenient models that keep only what an event may
carry: shipment and order ids, store, voided flag, ship time, skus and quantities. Customer
data (``shipTo`` names, addresses, phones, emails) is never read into these models, so it can
never reach an event, a log line or a table.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relay_shared import subjects
from relay_shared.events import OrderItem, OrderShipped, ShipstationNotified, stage_event_id
from relay_shared.identifiers import CHANNEL_PATTERN, matches

#: ShipStation V1 reports times in Pacific time without a zone.
SHIPSTATION_ZONE: Final = ZoneInfo("America/Los_Angeles")
SHIPMENT_RESOURCES: Final = frozenset({"SHIP_NOTIFY", "ITEM_SHIP_NOTIFY"})
MAX_PAGES: Final = 500
ShipmentVerdict = Literal["emit", "voided", "unknown_store", "invalid_channel", "no_items"]


class MalformedShipmentsError(ValueError):
    """A page that is not ShipStation's shipments list."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _Item(_Lenient):
    sku: str | None = None
    quantity: int = Field(default=0, ge=0)


class _Options(_Lenient):
    store_id: int | str | None = Field(default=None, alias="storeId")


class _Shipment(_Lenient):
    shipment_id: int | str = Field(alias="shipmentId")
    order_id: int | str | None = Field(default=None, alias="orderId")
    order_number: str | None = Field(default=None, alias="orderNumber")
    create_date: str | None = Field(default=None, alias="createDate")
    ship_date: str | None = Field(default=None, alias="shipDate")
    voided: bool = False
    store_id: int | str | None = Field(default=None, alias="storeId")
    advanced_options: _Options | None = Field(default=None, alias="advancedOptions")
    items: list[_Item] | None = Field(default=None, alias="shipmentItems")


class _Page(_Lenient):
    shipments: list[_Shipment]
    page: int = Field(default=1, ge=1)
    pages: int = Field(default=1, ge=0)


@dataclass(frozen=True)
class Shipment:
    shipment_id: str
    order_id: str
    store_id: str | None
    voided: bool
    shipped_at: datetime
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class ShipmentPage:
    shipments: list[Shipment]
    page: int
    pages: int


def parse_page(data: Any) -> ShipmentPage:
    try:
        page = _Page.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedShipmentsError(f"{where}: {first['msg']}") from exc
    return ShipmentPage([_shipment(s) for s in page.shipments], page.page, page.pages)


def _shipment(raw: _Shipment) -> Shipment:
    store = raw.advanced_options.store_id if raw.advanced_options is not None else None
    store = store if store is not None else raw.store_id
    order = raw.order_number or (None if raw.order_id is None else str(raw.order_id))
    if not order:
        raise MalformedShipmentsError(f"shipment {raw.shipment_id} has no order id")
    return Shipment(
        shipment_id=str(raw.shipment_id),
        order_id=order,
        store_id=None if store is None else str(store),
        voided=raw.voided,
        shipped_at=shipped_at(raw.create_date, raw.ship_date),
        items=_items(raw.items or []),
    )


def _items(items: list[_Item]) -> tuple[OrderItem, ...]:
    """One line per sku (a sku listed twice is summed); lines without a sku are dropped."""
    totals: Counter[str] = Counter()
    for item in items:
        if item.sku and item.sku.strip() and item.quantity > 0:
            totals[item.sku.strip()] += item.quantity
    return tuple(OrderItem(sku=sku, quantity=qty) for sku, qty in sorted(totals.items()))


_FRACTION = re.compile(r"(\.\d{6})\d+")


def shipped_at(create_date: str | None, ship_date: str | None) -> datetime:
    """When the label was made (``createDate``, Pacific time), else the ship date's start."""
    try:
        if create_date:
            local = datetime.fromisoformat(_FRACTION.sub(r"\1", create_date))
        elif ship_date:
            local = datetime.combine(date.fromisoformat(ship_date[:10]), time())
        else:
            raise MalformedShipmentsError("a shipment has neither createDate nor shipDate")
    except ValueError as exc:
        raise MalformedShipmentsError(f"unparseable shipment date: {exc}") from exc
    if local.tzinfo is None:
        local = local.replace(tzinfo=SHIPSTATION_ZONE)
    return local.astimezone(UTC)


def page_url(resource_url: str, page: int) -> str:
    """The resource URL asking for shipment items, at ``page`` (1-based)."""
    parts = urlsplit(resource_url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in {"includeshipmentitems", "page"}
    ]
    query += [("includeShipmentItems", "True"), ("page", str(page))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def decide(shipment: Shipment, store_channels: dict[str, str]) -> ShipmentVerdict:
    """What becomes of a shipment: emitted, or recorded with why not. A store mapped to a
    name that is not a channel name (a config from before channel names were checked) is
    ``invalid_channel``: nothing is published for it, so no consumer makes a workbook or a
    key of it."""
    if shipment.voided:
        return "voided"
    if shipment.store_id is None or shipment.store_id not in store_channels:
        return "unknown_store"
    if not matches(CHANNEL_PATTERN, store_channels[shipment.store_id]):
        return "invalid_channel"
    if not shipment.items:
        return "no_items"
    return "emit"


def shipped_event_id(tenant_id: str, shipment_id: str) -> str:
    """One ``order.shipped`` per shipment, whatever notification brought it."""
    return stage_event_id(subjects.ORDER_SHIPPED, "shipstation", tenant_id, shipment_id)


def order_shipped(notified: ShipstationNotified, shipment: Shipment, channel: str) -> OrderShipped:
    return OrderShipped(
        event_id=shipped_event_id(notified.tenant_id, shipment.shipment_id),
        occurred_at=shipment.shipped_at,
        tenant_id=notified.tenant_id,
        correlation_id=notified.correlation_id,
        order_id=shipment.order_id,
        channel=channel,
        status="shipped",
        ordered_at=None,
        shipped_at=shipment.shipped_at,
        items=list(shipment.items),
        source="shipstation_api",
    )
