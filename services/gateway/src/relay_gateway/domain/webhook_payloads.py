"""The ShipStation webhook bodies, and the event they become.

Only order id, channel, status, dates, skus and quantities are read from a signed payload;
everything else (customer names, addresses, emails, phones) is ignored and never stored or
published.

Every string read is free of control characters (NUL included) and lone surrogates, which
Postgres, NATS headers and UTF-8 cannot carry; ``tenant_id`` has the shape of a tenant id and
``event_id`` (it becomes part of a ``Nats-Msg-Id`` header) is printable ASCII. Anything else is
a malformed payload (400), never a server error.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Final, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from relay_shared import subjects
from relay_shared.events import OrderItem, OrderShipped, stage_event_id
from relay_shared.identifiers import TENANT_ID_PATTERN, matches

REPLAY_WINDOW = timedelta(minutes=5)
M = TypeVar("M", bound=BaseModel)
#: ``event_id``: printable ASCII without spaces (it ends up in a NATS header)
_EVENT_ID: Final = re.compile(r"[\x21-\x7e]+")


#: C0 and C1 controls, DEL, and surrogates (a str holds them only as lone surrogates)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _no_control_characters(value: str) -> str:
    """C0/C1 controls, DEL and lone surrogates are refused: no table, header or event may
    hold them."""
    if _CONTROL.search(value) is not None:
        raise ValueError("must not contain control characters")
    return value


def _tenant_id(value: str) -> str:
    if not matches(TENANT_ID_PATTERN, value):
        raise ValueError("is not a tenant id")
    return value


def _event_id(value: str) -> str:
    if _EVENT_ID.fullmatch(value) is None:
        raise ValueError("must be printable ASCII without spaces")
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]
TenantId = Annotated[str, AfterValidator(_tenant_id)]
EventId = Annotated[str, AfterValidator(_event_id)]


class MalformedPayloadError(ValueError):
    """Not JSON, missing fields, or an unparseable timestamp (400)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WebhookItem(_Lenient):
    sku: Text = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=0)


class WebhookOrder(_Lenient):
    order_id: Text = Field(min_length=1, max_length=128)
    channel: Text = Field(min_length=1, max_length=64)
    status: Text = Field(min_length=1, max_length=64)
    ordered_at: AwareDatetime | None = None
    shipped_at: AwareDatetime
    items: list[WebhookItem] = Field(min_length=1, max_length=500)


class SignedPayload(_Lenient):
    event_id: EventId = Field(min_length=1, max_length=128)
    event_type: Text = Field(min_length=1, max_length=64)
    timestamp: AwareDatetime
    tenant_id: TenantId = Field(min_length=1, max_length=64)
    order: WebhookOrder


class ResourceNotification(_Lenient):
    resource_url: Text = Field(min_length=1, max_length=2048)
    resource_type: Text = Field(min_length=1, max_length=64)


def parse_signed_payload(body: bytes) -> SignedPayload:
    return _parse(SignedPayload, body)


def parse_notification(body: bytes) -> ResourceNotification:
    return _parse(ResourceNotification, body)


def _parse(model: type[M], body: bytes) -> M:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayloadError("the body is not valid JSON") from exc
    except RecursionError as exc:
        raise MalformedPayloadError("the body is nested too deeply") from exc
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
