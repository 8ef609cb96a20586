"""A channel's action audit (what its plugin did, or in dry-run would have sent), from the
gateway's read model fed by ``channel.acted``. Channel-scoped like insights: a principal whose
token carries a ``channels`` claim sees only those channels; another one is 403."""

from __future__ import annotations

from typing import get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.channel_actions import (
    ChannelActionOut,
    ChannelActionQuery,
    ChannelActionsReadModel,
)
from relay_gateway.domain.pagination import Cursor
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import DependencyUnavailableError
from relay_gateway.http.listing_query import PAGING, channel_page, choice, next_page
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route
from relay_shared.events import ActionOutcome, ChannelActionName

CHANNEL_ACTIONS = web.AppKey("channel_actions", ChannelActionsReadModel)
ACTIONS = get_args(ChannelActionName)
OUTCOMES = get_args(ActionOutcome)


class ChannelActionList(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: str
    actions: list[ChannelActionOut]
    next_cursor: str | None


def _query(call: Call, channel: str) -> ChannelActionQuery:
    limit, cursor, _ = channel_page(call, channel)
    return ChannelActionQuery(
        tenant_id=call.tenant.tenant_id,
        channel=channel,
        action=choice(call.request, "action", ACTIONS),
        outcome=choice(call.request, "outcome", OUTCOMES),
        limit=limit + 1,
        after=cursor,
    )


async def list_channel_actions(call: Call) -> web.Response:
    channel = call.request.match_info["channel"]
    query = _query(call, channel)
    actions = call.request.app.get(CHANNEL_ACTIONS)
    if actions is None:
        raise DependencyUnavailableError("the gateway is starting")
    found = await actions.repository.page(query)
    page, next_cursor = next_page(
        found, query.limit - 1, lambda action: Cursor(action.acted_at, action.action_id)
    )
    return respond(
        ChannelActionList(
            tenant_id=call.tenant.tenant_id, channel=channel, actions=page, next_cursor=next_cursor
        )
    )


ROUTES = [
    Route(
        method="GET",
        path="/v1/tenants/{tenant_id}/channels/{channel}/actions",
        handler=list_channel_actions,
        summary="A channel's action audit (dry-run or sent), newest first; channel-scoped",
        role=Role.VIEWER,
        ok=200,
        returns=ChannelActionList,
        errors=(400, 403, 422),
        query=(
            ("action", "string"),
            ("outcome", "string"),
            *PAGING,
        ),
    ),
]
