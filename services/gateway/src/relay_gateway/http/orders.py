"""Recorded order lines (``?problem=unknown_sku``: the lines of skus the channel does not
list), from the gateway's read model fed by ``order.recorded``; channel-scoped like insights."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.orders import OrderLineView, OrderQuery
from relay_gateway.domain.pagination import Cursor
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.listing_query import PAGING, channel_page, choice, next_page
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route

PROBLEMS = ("unknown_sku",)


class OrderLineOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    sku: str
    channel: str
    quantity: int
    shipped_at: datetime
    problem: Literal["unknown_sku"] | None


class OrderLineList(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    lines: list[OrderLineOut]
    next_cursor: str | None


async def list_orders(call: Call) -> web.Response:
    limit, cursor, channels = channel_page(call, call.request.query.get("channel"))
    problem = choice(call.request, "problem", PROBLEMS)
    tenant_id = call.tenant.tenant_id
    query = OrderQuery(tenant_id, problem, channels, limit + 1, cursor)
    found = await call.context.orders.page(query)
    page, next_cursor = next_page(found, limit, lambda line: Cursor(line.shipped_at, line.line_id))
    return respond(
        OrderLineList(
            tenant_id=tenant_id,
            lines=[_line_out(line) for line in page],
            next_cursor=next_cursor,
        )
    )


def _line_out(line: OrderLineView) -> OrderLineOut:
    return OrderLineOut.model_validate(line, from_attributes=True)


ROUTES = [
    Route(
        method="GET",
        path="/v1/tenants/{tenant_id}/orders",
        handler=list_orders,
        summary="Recorded order lines, newest shipment first (problem=unknown_sku: the lines"
        " of skus the channel does not list); channel-scoped",
        role=Role.VIEWER,
        ok=200,
        returns=OrderLineList,
        errors=(400, 422),
        query=(
            ("problem", "string"),
            ("channel", "string"),
            *PAGING,
        ),
    ),
]
