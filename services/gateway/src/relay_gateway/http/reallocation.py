"""The reallocation list (open candidates plus what channels pushed, with their state), from
the gateway's read model fed by ``reallocation.changed``. Channel-scoped: an entry shows when
its origin or target is visible, or it was pushed to any channel. Claims go through the bus
(a channel's pull), never through this copy."""

from __future__ import annotations

from typing import get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.reallocation import ReallocationQuery
from relay_gateway.domain.pagination import Cursor
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.listing_query import PAGING, channel_page, invalid, next_page
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route
from relay_shared.events import ReallocationState
from relay_shared.reallocation_entry import ReallocationEntry

PATH = "/v1/tenants/{tenant_id}/reallocation"
STATES = get_args(ReallocationState)
DEFAULT_STATES = ("open", "claimed")


class ReallocationEntries(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    entries: list[ReallocationEntry]
    next_cursor: str | None


def _states(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_STATES
    states = tuple(dict.fromkeys(part.strip() for part in raw.split(",")))
    if not states or any(state not in STATES for state in states):
        raise invalid("state", f"must be one or more of {', '.join(STATES)}")
    return states


async def list_reallocation(call: Call) -> web.Response:
    limit, cursor, channels = channel_page(call, call.request.query.get("channel"))
    states = _states(call.request.query.get("state"))
    tenant_id = call.tenant.tenant_id
    query = ReallocationQuery(tenant_id, states, channels, limit + 1, cursor)
    found = await call.context.reallocation.page(query)
    entries, next_cursor = next_page(found, limit, lambda e: Cursor(e.changed_at, e.entry_id))
    return respond(
        ReallocationEntries(tenant_id=tenant_id, entries=entries, next_cursor=next_cursor)
    )


ROUTES = [
    Route(
        method="GET",
        path=PATH,
        handler=list_reallocation,
        summary="The reallocation list: open candidates and pushed stock, with their state"
        " (state=open,claimed by default); channel-scoped",
        role=Role.VIEWER,
        ok=200,
        returns=ReallocationEntries,
        errors=(400, 422),
        query=(
            ("state", "string"),
            ("channel", "string"),
            *PAGING,
        ),
    ),
]
