"""Recorded order lines (``?problem=unknown_sku``: the lines of skus the channel does not
list), from the gateway's read model fed by ``order.recorded``; channel-scoped like insights."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.orders import OrderLineView, OrderQuery
from relay_gateway.domain.insights import ChannelDeniedError, visible_channels
from relay_gateway.domain.pagination import INSIGHT_PAGES, Cursor, InvalidCursorError
from relay_gateway.domain.query_params import bounded_int
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import BadRequestError, ForbiddenError, UnprocessableError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route
from relay_shared.tenant_config import ConfigProblem

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


def _invalid(path: str, message: str) -> UnprocessableError:
    return UnprocessableError("the query is not valid", [ConfigProblem(path, message)])


def page_query(call: Call) -> tuple[int, Cursor | None, frozenset[str] | None]:
    """The page size, the cursor and the visible channels of a listing request
    (422 / 400 / 403)."""
    request = call.request
    size = INSIGHT_PAGES
    limit = bounded_int(request.query.get("limit", str(size.default)), 1, size.maximum)
    if limit is None:
        raise _invalid("limit", f"must be an integer from 1 to {INSIGHT_PAGES.maximum}")
    raw_cursor = request.query.get("cursor")
    try:
        cursor = None if raw_cursor is None else Cursor.decode(raw_cursor)
        channels = visible_channels(call.principal, request.query.get("channel"))
    except InvalidCursorError as exc:
        raise BadRequestError(str(exc), code="invalid_cursor") from exc
    except ChannelDeniedError as exc:
        raise ForbiddenError(str(exc), code="channel_not_allowed") from exc
    return limit, cursor, channels


async def list_orders(call: Call) -> web.Response:
    limit, cursor, channels = page_query(call)
    problem = call.request.query.get("problem")
    if problem is not None and problem not in PROBLEMS:
        raise _invalid("problem", f"must be one of {', '.join(PROBLEMS)}")
    tenant_id = call.tenant.tenant_id
    query = OrderQuery(tenant_id, problem, channels, limit + 1, cursor)
    found = await call.context.orders.page(query)
    last = found[limit - 1] if len(found) > limit else None
    return respond(
        OrderLineList(
            tenant_id=tenant_id,
            lines=[_line_out(line) for line in found[:limit]],
            next_cursor=None if last is None else Cursor(last.shipped_at, last.line_id).encode(),
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
            ("limit", "integer"),
            ("cursor", "string"),
        ),
    ),
]
