"""Vendor feed uploads, streamed to the tenant's inbound prefix."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from relay_gateway.access import authorized_tenant
from relay_gateway.api_models import Upload
from relay_gateway.context import context_of
from relay_gateway.domain import config_documents
from relay_gateway.domain.ids import upload_id
from relay_gateway.domain.roles import Role
from relay_gateway.errors import NotFoundError, PayloadTooLargeError, RequestTimeoutError
from relay_gateway.request_bodies import body_read_timeout
from relay_gateway.responses import respond
from relay_gateway.routing import Body, Route
from relay_shared import keys
from relay_shared.storage import UploadTooLargeError

READ_CHUNK = 1024 * 1024


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    """The body in chunks; 408 when the client stops sending for the body read timeout."""
    timeout = body_read_timeout(request)
    while True:
        try:
            async with asyncio.timeout(timeout):
                chunk = await request.content.read(READ_CHUNK)
        except TimeoutError as exc:
            raise RequestTimeoutError("the body was not sent in time") from exc
        if not chunk:
            return
        yield chunk


async def put_feed(request: web.Request) -> web.Response:
    context = context_of(request)
    _, tenant = await authorized_tenant(request, context, Role.OPERATOR)
    vendor_id = request.match_info["vendor_id"]
    stored = await context.tenants.config(tenant.tenant_id)
    extension = None if stored is None else config_documents.vendor_format(stored.config, vendor_id)
    if extension is None:
        raise NotFoundError("no such vendor in the current config", code="unknown_vendor")
    limit = context.settings.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"the upload exceeds {limit} bytes")
    now = datetime.now(UTC)
    key = keys.inbound_key(tenant.tenant_id, vendor_id, now, upload_id(now), extension)
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    try:
        saved = await context.store.put_stream(key, _chunks(request), content_type, limit)
    except UploadTooLargeError as exc:
        raise PayloadTooLargeError(f"the upload exceeds {limit} bytes") from exc
    return respond(Upload(key=saved.key, sha256=saved.sha256, size=saved.size), 201)


ROUTES = [
    Route(
        "PUT",
        "/v1/tenants/{tenant_id}/vendors/{vendor_id}/feed",
        put_feed,
        "Upload a vendor's raw feed file (streamed)",
        "operator",
        201,
        Upload,
        (401, 403, 404, 413),
        Body(None, ("application/octet-stream",), "the raw file"),
    ),
]
