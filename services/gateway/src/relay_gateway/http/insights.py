"""Insights, read from the gateway's own read model (fed by ``insight.generated``).

Channel-scoped: a principal whose token carries a ``channels`` claim sees only those
channels; asking for another one is 403.
"""

from __future__ import annotations

from aiohttp import web

from relay_gateway.adapters.insights import InsightQuery
from relay_gateway.domain.insights import INSIGHT_STATUSES, KINDS, Insight
from relay_gateway.domain.pagination import Cursor
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import InsightList, InsightOut
from relay_gateway.http.listing_query import PAGING, channel_page, choice, next_page
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route


def _query(call: Call) -> InsightQuery:
    limit, cursor, channels = channel_page(call, call.request.query.get("channel"))
    return InsightQuery(
        tenant_id=call.tenant.tenant_id,
        status=choice(call.request, "status", INSIGHT_STATUSES) or "open",
        kind=choice(call.request, "kind", KINDS),
        channels=channels,
        limit=limit + 1,
        after=cursor,
    )


def _insight_out(insight: Insight) -> InsightOut:
    return InsightOut.model_validate(insight, from_attributes=True)


async def list_insights(call: Call) -> web.Response:
    tenant = call.tenant
    query = _query(call)
    found = await call.context.insights.page(query)
    page, next_cursor = next_page(
        found, query.limit - 1, lambda insight: Cursor(insight.since, insight.insight_id)
    )
    return respond(
        InsightList(
            tenant_id=tenant.tenant_id,
            insights=[_insight_out(insight) for insight in page],
            next_cursor=next_cursor,
        )
    )


TENANT = "/v1/tenants/{tenant_id}"
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
