"""The ShipStation webhook: signed order payloads and V1 resource notifications.

Checks run in the spec's order: size (413, before the body is read whole), content type
(415), signature or token (401), body (400), timestamp window (401), tenant (404), the order's
channel (422 unless it is one of the tenant's channels: nothing is published for a channel
the tenant does not have), rate (429), duplicate (200). The answer comes once the event is
stored in JetStream.

Round trips of an accepted signed order: one statement for the tenant and the receipt
(group-committed with concurrent requests, :mod:`relay_gateway.adapters.receipts`), one
compare-and-set of the rate log, the publish and its ack, one statement for the receipt
(group-committed too). The receipt read with the tenant decides only after the rate check, as
the spec orders; two requests with one event id racing past it both publish, JetStream drops
the second (same ``Nats-Msg-Id``) and its receipt insert makes it a ``duplicate``.

The V1 form's ``tenant`` query value must have a tenant id's shape before it reaches a query
(422 naming ``tenant``, like the input middleware); a token or signature that is not ASCII is
simply wrong (401). No input yields a 5xx.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web

from relay_gateway.domain.signatures import signature_matches, token_matches
from relay_gateway.domain.webhook_payloads import (
    MalformedPayloadError,
    SignedPayload,
    order_event_id,
    order_shipped,
    parse_notification,
    parse_signed_payload,
    within_window,
)
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import WebhookAnswer
from relay_gateway.http.bodies import media_type, read_limited
from relay_gateway.http.context import GatewayContext, correlation_id_of
from relay_gateway.http.errors import (
    BadRequestError,
    PayloadTooLargeError,
    TooManyRequestsError,
    UnauthorizedError,
    UnknownResourceError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Auth, Body, Route
from relay_shared import subjects
from relay_shared.events import Event, ShipstationNotified, stage_event_id
from relay_shared.identifiers import TENANT_ID_PATTERN, matches
from relay_shared.secrets_box import SecretsBoxError
from relay_shared.shipstation_urls import ResourceUrlRefusedError, check_resource_url
from relay_shared.tenant_config import ConfigProblem

SIGNATURE_HEADER = "X-ShipStation-Signature"
SHIPPED = "order.shipped"
log = structlog.get_logger(__name__)


async def shipstation_webhook(call: Call) -> web.Response:
    request, context = call.request, call.context
    limit = context.settings.max_payload
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"the payload exceeds {limit} bytes")
    if media_type(request) != "application/json":
        raise UnsupportedMediaTypeError("the payload must be application/json")
    raw = await _body(request, limit)
    if "token" in request.query or "tenant" in request.query:
        return await _resource_notification(request, context, raw)
    return await _signed_order(request, context, raw)


async def _body(request: web.Request, limit: int) -> bytes:
    """The body: taken at once when it has all arrived (a webhook fits in one packet; there
    is nothing to wait for, so no read timeout to arm), else read as every body is
    (:func:`~relay_gateway.http.bodies.read_limited`). The same bytes, the same 413."""
    content = request.content
    if not content.is_eof():
        return await read_limited(request, limit)
    body = content.read_nowait()
    if len(body) > limit:
        raise PayloadTooLargeError(f"the body exceeds {limit} bytes")
    return body


async def _signed_order(request: web.Request, context: GatewayContext, raw: bytes) -> web.Response:
    if not signature_matches(request.headers.get(SIGNATURE_HEADER), raw, context.webhook_secrets):
        raise UnauthorizedError("the signature is missing or wrong", code="invalid_signature")
    try:
        payload = parse_signed_payload(raw)
    except MalformedPayloadError as exc:
        raise BadRequestError(str(exc), code="malformed_payload") from exc
    now = datetime.now(UTC)
    if not within_window(payload.timestamp, now):
        raise UnauthorizedError(
            "the timestamp is outside the 5 minute window", code="stale_timestamp"
        )
    # the tenant and the receipt in one statement; the receipt decides only after the rate
    lookup = await context.receipts.lookup(
        payload.tenant_id, order_event_id(payload.tenant_id, payload.event_id)
    )
    tenant = lookup.tenant
    if tenant is None:
        raise UnknownResourceError("no such tenant")
    if payload.event_type == SHIPPED and payload.order.channel not in tenant.channels:
        raise UnprocessableError(
            "the order's channel is not one of the tenant's channels",
            [ConfigProblem("order.channel", "is not one of the tenant's channels")],
            code="unknown_channel",
        )
    await _admit(context, payload.tenant_id, now)
    if payload.event_type != SHIPPED:
        return respond(WebhookAnswer(status="ignored", event_id=payload.event_id), 200)
    if lookup.seen:
        return respond(WebhookAnswer(status="duplicate", event_id=payload.event_id), 200)
    event = order_shipped(payload, correlation_id_of(request))
    return await _publish(context, event, payload.event_id)


async def _resource_notification(
    request: web.Request, context: GatewayContext, raw: bytes
) -> web.Response:
    now = datetime.now(UTC)
    tenant_id = request.query.get("tenant", "")
    if tenant_id and not matches(TENANT_ID_PATTERN, tenant_id):
        raise UnprocessableError(
            "the query is not valid", [ConfigProblem("tenant", "is not a valid tenant name")]
        )
    config = await context.tenants.config(tenant_id) if tenant_id else None
    expected = None if config is None else _webhook_token(context, config.config)
    if config is None or not token_matches(request.query.get("token"), expected):
        raise UnauthorizedError("the token is missing or wrong", code="invalid_token")
    try:
        notification = parse_notification(raw)
        check_resource_url(
            notification.resource_url,
            context.settings.shipstation_hosts,
            allow_http=context.settings.shipstation_allow_http,
        )
    except (MalformedPayloadError, ResourceUrlRefusedError) as exc:
        raise BadRequestError(str(exc), code="malformed_payload") from exc
    await _admit(context, tenant_id, now)
    url_hash = hashlib.sha256(notification.resource_url.encode()).hexdigest()[:32]
    event = ShipstationNotified(
        event_id=stage_event_id(subjects.SHIPSTATION_NOTIFIED, tenant_id, url_hash),
        occurred_at=now,
        tenant_id=tenant_id,
        correlation_id=correlation_id_of(request),
        resource_url=notification.resource_url,
        resource_type=notification.resource_type,
        config_version=config.version,
    )
    if await context.receipts.seen(event.tenant_id, event.event_id):
        return respond(WebhookAnswer(status="duplicate", event_id=url_hash), 200)
    return await _publish(context, event, url_hash)


def _webhook_token(context: GatewayContext, config: dict[str, Any]) -> str | None:
    """The tenant's webhook token (stored sealed), None when it has none or it is unreadable."""
    if context.box is None:
        return None
    try:
        return context.box.open_field(config, "shipstation", "webhook_token")
    except SecretsBoxError:
        log.warning("webhook.token_unreadable")
        return None


async def _admit(context: GatewayContext, tenant_id: str, now: datetime) -> None:
    """Count the event at ``now``, taken before the slow lookups, so a stall in them does
    not bunch events up; the limiter is exact whatever order replicas commit in."""
    admission = await context.rate_limiter.check(tenant_id, now)
    if not admission.allowed:
        raise TooManyRequestsError(
            "too many webhook events for this tenant",
            retry_after_s=admission.retry_after_header,
        )


async def _publish(context: GatewayContext, event: Event, answer_id: str) -> web.Response:
    """Publish an event not yet received; record the receipt once JetStream has it (a
    request that raced another with the same event, published too but dropped by JetStream
    as a duplicate ``Nats-Msg-Id``, records second and answers ``duplicate``)."""
    await context.bus.publish(event)
    first = await context.receipts.record(event.tenant_id, event.event_id, event.subject)
    status = "accepted" if first else "duplicate"
    return respond(WebhookAnswer(status=status, event_id=answer_id), 202 if first else 200)


ROUTES = [
    Route(
        method="POST",
        path="/v1/webhooks/shipstation",
        handler=shipstation_webhook,
        summary="ShipStation webhook (signed payload, or V1 notification with ?tenant=&token=)",
        role=Auth.SIGNATURE,
        ok=202,
        returns=WebhookAnswer,
        errors=(400, 401, 404, 413, 415, 422, 429),
        body=Body(
            model=SignedPayload,
            media_types=("application/json",),
            description="signed order payload or V1 notification",
        ),
        query=(("tenant", "string"), ("token", "string")),
        headers=((SIGNATURE_HEADER, "string"),),
        also_ok={200: WebhookAnswer},
    ),
]
