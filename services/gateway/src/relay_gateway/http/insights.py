"""Insights, read from the gateway's own read model (fed by ``insight.generated``).

Channel-scoped: a principal whose token carries a ``channels`` claim sees only those
channels; asking for another one is 403.
"""

from __future__ import annotations

from aiohttp import web

from relay_gateway.adapters.insights import InsightQuery
from relay_gateway.domain.insights import (
    INSIGHT_STATUSES,
    KINDS,
    ChannelDeniedError,
    Insight,
    visible_channels,
)
from relay_gateway.domain.pagination import INSIGHT_PAGES, Cursor, InvalidCursorError
from relay_gateway.domain.query_params import bounded_int
from relay_gateway.domain.roles import Principal, Role
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import InsightList, InsightOut
from relay_gateway.http.errors import BadRequestError, ForbiddenError, UnprocessableError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route
from relay_shared.tenant_config import ConfigProblem


def _invalid(path: str, message: str) -> UnprocessableError:
    return UnprocessableError("the query is not valid", [ConfigProblem(path, message)])


def _choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in choices:
        raise _invalid(name, f"must be one of {', '.join(choices)}")
    return value


def _query(request: web.Request, principal: Principal, tenant_id: str) -> InsightQuery:
    size = INSIGHT_PAGES
    limit = bounded_int(request.query.get("limit", str(size.default)), 1, size.maximum)
    if limit is None:
        raise _invalid("limit", f"must be an integer from 1 to {size.maximum}")
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


async def list_insights(call: Call) -> web.Response:
    tenant = call.tenant
    query = _query(call.request, call.principal, tenant.tenant_id)
    found = await call.context.insights.page(query)
    page = found[: query.limit - 1]
    return respond(
        InsightList(
            tenant_id=tenant.tenant_id,
            insights=[_insight_out(insight) for insight in page],
            next_cursor=_next_cursor(found, query.limit - 1),
        )
    )


TENANT = "/v1/tenants/{tenant_id}"
PAGING = (("limit", "integer"), ("cursor", "string"))
ROUTES = [
    Route(
        method="GET",
        path=f"{TENANT}/insights",
        handler=list_insights,
        summary="Current insights (status=open by default), newest first; channel-scoped",
        role=Role.VIEWER,
        ok=200,
        returns=InsightList,
        errors=(400, 422),
        query=(("kind", "string"), ("channel", "string"), ("status", "string"), *PAGING),
    ),
]
