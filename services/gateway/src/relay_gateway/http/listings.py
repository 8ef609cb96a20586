"""A channel's listings file (CSV or XLSX: sku, title, quantity, status, listed_date) sets
the channel's products in insights.

The file is validated here (422 naming every row and column at fault, see
:mod:`relay_shared.listings`), stored as canonical CSV under the name of its sha256, and
announced with ``listings.imported`` through the gateway's outbox. The event id derives from
the tenant, the channel and that sha256, so the same listings twice change nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.bodies import read_limited
from relay_gateway.http.config import current_config
from relay_gateway.http.errors import UnknownResourceError, UnprocessableError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Body, Route
from relay_gateway.http.tenants import publish_pending
from relay_shared import subjects
from relay_shared.events import ListingsImported, stage_event_id
from relay_shared.listings import (
    DEFAULT_LIMITS,
    ListingProblem,
    ListingsError,
    canonical_csv,
    listings_key,
    parse_listings,
)
from relay_shared.tenant_config import ConfigProblem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ListingsAccepted(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: str
    listings_key: str
    sha256: str
    rows: int


def listings_event_id(tenant_id: str, channel: str, sha256: str) -> str:
    return stage_event_id(subjects.LISTINGS_IMPORTED, tenant_id, channel, sha256)


async def tenant_channels(call: Call) -> set[str]:
    """The tenant's channels: those named at creation plus those its current config adds."""
    channels = set(call.tenant.channels)
    current = await current_config(call.context, call.tenant.tenant_id)
    if current is not None and current.config.channels:
        channels.update(current.config.channels)
    return channels


def _path(problem: ListingProblem) -> str:
    if problem.row is None:
        return ""
    return f"rows[{problem.row}]" + (f".{problem.column}" if problem.column else "")


def _unprocessable(exc: ListingsError) -> UnprocessableError:
    problems = [ConfigProblem(_path(problem), problem.message) for problem in exc.problems]
    if exc.more:
        problems.append(ConfigProblem("", f"and {exc.more} more problems"))
    return UnprocessableError(
        "the listings file is not valid (rows count the header as row 1)",
        problems,
        code="invalid_listings",
    )


async def put_listings(call: Call) -> web.Response:
    tenant_id, channel = call.tenant.tenant_id, call.request.match_info["channel"]
    if channel not in await tenant_channels(call):
        raise UnknownResourceError("no such channel of the tenant", code="unknown_channel")
    limit = min(call.context.settings.max_upload_bytes, DEFAULT_LIMITS.max_bytes)
    raw = await read_limited(call.request, limit)
    try:
        listings = await asyncio.to_thread(parse_listings, raw)
    except ListingsError as exc:
        raise _unprocessable(exc) from exc
    canonical = canonical_csv(listings)
    sha256 = hashlib.sha256(canonical).hexdigest()
    key = listings_key(tenant_id, channel, sha256)
    await call.context.store.put_bytes(key, canonical, content_type="text/csv")
    event = ListingsImported(
        event_id=listings_event_id(tenant_id, channel, sha256),
        occurred_at=datetime.now(UTC),
        tenant_id=tenant_id,
        correlation_id=call.correlation_id,
        channel=channel,
        listings_key=key,
        sha256=sha256,
        rows=len(listings),
    )
    await call.context.announcements.add(event)
    await publish_pending(call)
    accepted = ListingsAccepted(
        tenant_id=tenant_id, channel=channel, listings_key=key, sha256=sha256, rows=len(listings)
    )
    return respond(accepted, 202)


ROUTES = [
    Route(
        method="PUT",
        path="/v1/tenants/{tenant_id}/channels/{channel}/listings",
        handler=put_listings,
        summary="Import a channel's listings (CSV or XLSX: sku, title, quantity, status,"
        " listed_date); every bad row and column is a 422",
        role=Role.OPERATOR,
        ok=202,
        returns=ListingsAccepted,
        errors=(404, 413, 422),
        body=Body(
            media_types=("text/csv", XLSX, "application/octet-stream"),
            description="the listings file (CSV, UTF-8; or XLSX, first sheet)",
        ),
    ),
]
