"""Insights and the reallocation list, read from the gateway's own read model.

Channel-scoped: a principal whose token carries a ``channels`` claim sees only those
channels; asking for another one is 403.
"""

from __future__ import annotations

from aiohttp import web

from relay_gateway.access import authorized_tenant
from relay_gateway.adapters.insights import InsightQuery
from relay_gateway.api_models import (
    InsightList,
    InsightOut,
    ReallocationEntryOut,
    ReallocationList,
)
from relay_gateway.context import context_of
from relay_gateway.domain.insights import (
    INSIGHT_STATUSES,
    KINDS,
    ChannelDeniedError,
    Insight,
    reallocation_entry,
    visible_channels,
)
from relay_gateway.domain.pagination import Cursor, InvalidCursorError
from relay_gateway.domain.query_params import bounded_int
from relay_gateway.domain.roles import Principal, Role
from relay_gateway.errors import BadRequestError, ForbiddenError, UnprocessableError
from relay_gateway.responses import respond
from relay_gateway.routing import Route
from relay_shared.tenant_config import ConfigProblem

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def _invalid(path: str, message: str) -> UnprocessableError:
    return UnprocessableError("the query is not valid", [ConfigProblem(path, message)])


def _choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in choices:
        raise _invalid(name, f"must be one of {', '.join(choices)}")
    return value


def _query(request: web.Request, principal: Principal, tenant_id: str) -> InsightQuery:
    limit = bounded_int(request.query.get("limit", str(DEFAULT_LIMIT)), 1, MAX_LIMIT)
    if limit is None:
        raise _invalid("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    raw_cursor = request.query.get("cursor")
    try:
        cursor = None if raw_cursor is None else Cursor.decode(raw_cursor)
        channels = visible_channels(principal, request.query.get("channel"))
    except InvalidCursorError as exc:
        raise BadRequestError(str(exc), code="invalid_cursor") from exc
    except ChannelDeniedError as exc:
        raise ForbiddenError(str(exc), code="channel_not_allowed") from exc
    return InsightQuery(
        tenant_id=tenant_id,
        status=_choice(request, "status", INSIGHT_STATUSES) or "open",
        kind=_choice(request, "kind", KINDS),
        channels=channels,
        limit=limit + 1,
        after=cursor,
    )


def _next_cursor(found: list[Insight], limit: int) -> str | None:
    if len(found) <= limit:
        return None
    last = found[limit - 1]
    return Cursor(last.since, last.insight_id).encode()


def _insight_out(insight: Insight) -> InsightOut:
    return InsightOut.model_validate(insight, from_attributes=True)


async def list_insights(request: web.Request) -> web.Response:
    context = context_of(request)
    principal, tenant = await authorized_tenant(request, context, Role.VIEWER)
    query = _query(request, principal, tenant.tenant_id)
    found = await context.insights.page(query)
    page = found[: query.limit - 1]
    return respond(
        InsightList(
            tenant_id=tenant.tenant_id,
            insights=[_insight_out(insight) for insight in page],
            next_cursor=_next_cursor(found, query.limit - 1),
        )
    )


async def list_reallocation(request: web.Request) -> web.Response:
    context = context_of(request)
    principal, tenant = await authorized_tenant(request, context, Role.VIEWER)
    query = _query(request, principal, tenant.tenant_id)
    found = await context.insights.reallocation(query)
    entries = [reallocation_entry(insight) for insight in found[: query.limit - 1]]
    return respond(
        ReallocationList(
            tenant_id=tenant.tenant_id,
            entries=[
                ReallocationEntryOut.model_validate(entry, from_attributes=True)
                for entry in entries
                if entry is not None
            ],
            next_cursor=_next_cursor(found, query.limit - 1),
        )
    )


TENANT = "/v1/tenants/{tenant_id}"
PAGING = (("limit", "integer"), ("cursor", "string"))
ROUTES = [
    Route(
        "GET",
        f"{TENANT}/insights",
        list_insights,
        "Current insights (status=open by default), newest first; channel-scoped",
        "viewer",
        200,
        InsightList,
        (400, 401, 403, 404, 422),
        query=(("kind", "string"), ("channel", "string"), ("status", "string"), *PAGING),
    ),
    Route(
        "GET",
        f"{TENANT}/reallocation",
        list_reallocation,
        "The reallocation list: open reallocation candidates (origin → target)",
        "viewer",
        200,
        ReallocationList,
        (400, 401, 403, 404, 422),
        query=(("channel", "string"), *PAGING),
    ),
]
