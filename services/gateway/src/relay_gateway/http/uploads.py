"""Vendor feed uploads, streamed to the tenant's inbound prefix."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from relay_gateway.domain.ids import upload_id
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import Upload
from relay_gateway.http.bodies import body_read_timeout
from relay_gateway.http.config import current_vendor
from relay_gateway.http.errors import PayloadTooLargeError, RequestTimeoutError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Body, Route
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


async def put_feed(call: Call) -> web.Response:
    vendor = await current_vendor(call)
    request, context = call.request, call.context
    limit = context.settings.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"the upload exceeds {limit} bytes")
    now = datetime.now(UTC)
    key = keys.inbound_key(
        call.tenant.tenant_id, vendor.vendor_id, now, upload_id(now), vendor.parser.format
    )
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    try:
        saved = await context.store.put_stream(key, _chunks(request), content_type, limit)
    except UploadTooLargeError as exc:
        raise PayloadTooLargeError(f"the upload exceeds {limit} bytes") from exc
    return respond(Upload(key=saved.key, sha256=saved.sha256, size=saved.size), 201)


ROUTES = [
    Route(
        method="PUT",
        path="/v1/tenants/{tenant_id}/vendors/{vendor_id}/feed",
        handler=put_feed,
        summary="Upload a vendor's raw feed file (streamed)",
        role=Role.OPERATOR,
        ok=201,
        returns=Upload,
        errors=(413,),
        body=Body(media_types=("application/octet-stream",), description="the raw file"),
    ),
]
