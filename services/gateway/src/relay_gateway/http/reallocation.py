"""The reallocation list (open candidates plus what channels pushed, with their state), from
the gateway's read model fed by ``reallocation.changed``. Channel-scoped: an entry shows when
its origin or target is visible, or it was pushed to any channel. Claims go through the bus
(a channel's pull), never through this copy."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.reallocation import ReallocationQuery, ReallocationView
from relay_gateway.domain.pagination import Cursor
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import UnprocessableError
from relay_gateway.http.orders import page_query
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route
from relay_shared.tenant_config import ConfigProblem

PATH = "/v1/tenants/{tenant_id}/reallocation"
STATES = ("open", "claimed", "done", "withdrawn")
DEFAULT_STATES = ("open", "claimed")


class ReallocationEntryState(BaseModel):
    model_config = ConfigDict(frozen=True)

    entry_id: str
    origin: str
    target: str | None
    sku: str
    quantity: int
    reason: str
    state: Literal["open", "claimed", "done", "withdrawn"]
    claimed_by: str | None
    changed_at: datetime


class ReallocationEntries(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    entries: list[ReallocationEntryState]
    next_cursor: str | None


def _states(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_STATES
    states = tuple(dict.fromkeys(part.strip() for part in raw.split(",")))
    if not states or any(state not in STATES for state in states):
        problem = ConfigProblem("state", f"must be one or more of {', '.join(STATES)}")
        raise UnprocessableError("the query is not valid", [problem])
    return states


async def list_reallocation(call: Call) -> web.Response:
    limit, cursor, channels = page_query(call)
    states = _states(call.request.query.get("state"))
    tenant_id = call.tenant.tenant_id
    query = ReallocationQuery(tenant_id, states, channels, limit + 1, cursor)
    found = await call.context.reallocation.page(query)
    last = found[limit - 1] if len(found) > limit else None
    return respond(
        ReallocationEntries(
            tenant_id=tenant_id,
            entries=[_entry_out(entry) for entry in found[:limit]],
            next_cursor=None if last is None else Cursor(last.changed_at, last.entry_id).encode(),
        )
    )


def _entry_out(entry: ReallocationView) -> ReallocationEntryState:
    return ReallocationEntryState.model_validate(entry, from_attributes=True)


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
            ("limit", "integer"),
            ("cursor", "string"),
        ),
    ),
]
