"""The ShipStation webhook bodies, and the event they become.

Only order id, channel, status, dates, skus and quantities are read from a signed payload;
everything else (customer names, addresses, emails, phones) is ignored and never stored or
published.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from relay_shared import subjects
from relay_shared.events import OrderItem, OrderShipped, stage_event_id

REPLAY_WINDOW = timedelta(minutes=5)
M = TypeVar("M", bound=BaseModel)


class MalformedPayloadError(ValueError):
    """Not JSON, missing fields, or an unparseable timestamp (400)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WebhookItem(_Lenient):
    sku: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=0)


class WebhookOrder(_Lenient):
    order_id: str = Field(min_length=1, max_length=128)
    channel: str = Field(min_length=1, max_length=64)
    status: str = Field(min_length=1, max_length=64)
    ordered_at: AwareDatetime | None = None
    shipped_at: AwareDatetime
    items: list[WebhookItem] = Field(min_length=1, max_length=500)


class SignedPayload(_Lenient):
    event_id: str = Field(min_length=1, max_length=128)
    event_type: str = Field(min_length=1, max_length=64)
    timestamp: AwareDatetime
    tenant_id: str = Field(min_length=1, max_length=64)
    order: WebhookOrder


class ResourceNotification(_Lenient):
    resource_url: str = Field(min_length=1, max_length=2048)
    resource_type: str = Field(min_length=1, max_length=64)


def parse_signed_payload(body: bytes) -> SignedPayload:
    return _parse(SignedPayload, body)


def parse_notification(body: bytes) -> ResourceNotification:
    return _parse(ResourceNotification, body)


def _parse(model: type[M], body: bytes) -> M:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayloadError("the body is not valid JSON") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedPayloadError(f"{where}: {first['msg']}") from exc


def within_window(timestamp: datetime, now: datetime) -> bool:
    """Not older than 5 minutes and not more than 5 minutes ahead."""
    return abs(now - timestamp) <= REPLAY_WINDOW


def order_event_id(tenant_id: str, webhook_event_id: str) -> str:
    return stage_event_id(subjects.ORDER_SHIPPED, "webhook", tenant_id, webhook_event_id)


def order_shipped(payload: SignedPayload, correlation_id: str) -> OrderShipped:
    order = payload.order
    return OrderShipped(
        event_id=order_event_id(payload.tenant_id, payload.event_id),
        occurred_at=payload.timestamp,
        tenant_id=payload.tenant_id,
        correlation_id=correlation_id,
        order_id=order.order_id,
        channel=order.channel,
        status=order.status,
        ordered_at=order.ordered_at,
        shipped_at=order.shipped_at,
        items=[OrderItem(sku=item.sku, quantity=item.quantity) for item in order.items],
        source="webhook",
    )
