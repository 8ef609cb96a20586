"""A channel's action audit (what its plugin did, or in dry-run would have sent), from the
gateway's read model fed by ``channel.acted``. Channel-scoped like insights: a principal whose
token carries a ``channels`` claim sees only those channels; another one is 403."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.channel_actions import (
    ChannelActionQuery,
    ChannelActions,
    ChannelActionView,
)
from relay_gateway.domain.insights import ChannelDeniedError, visible_channels
from relay_gateway.domain.pagination import INSIGHT_PAGES, Cursor, InvalidCursorError
from relay_gateway.domain.query_params import bounded_int
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import (
    BadRequestError,
    DependencyUnavailableError,
    ForbiddenError,
    UnprocessableError,
)
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route
from relay_shared.tenant_config import ConfigProblem

CHANNEL_ACTIONS = web.AppKey("channel_actions", ChannelActions)
ACTIONS = ("pause", "unpause", "delist", "reprice", "push", "pull")
OUTCOMES = ("dry_run", "succeeded", "failed", "deferred", "timed_out")


class ChannelActionOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    action_id: str
    insight_id: str
    channel: str
    sku: str
    action: Literal["pause", "unpause", "delist", "reprice", "push", "pull"]
    outcome: Literal["dry_run", "succeeded", "failed", "deferred", "timed_out"]
    dry_run: bool
    request: dict[str, Any]
    answer: str | None
    duration_ms: int
    status_after: str | None
    price_after: Decimal | None
    artifact_key: str | None
    acted_at: datetime


class ChannelActionList(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: str
    actions: list[ChannelActionOut]
    next_cursor: str | None


def _invalid(path: str, message: str) -> UnprocessableError:
    return UnprocessableError("the query is not valid", [ConfigProblem(path, message)])


def _choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in choices:
        raise _invalid(name, f"must be one of {', '.join(choices)}")
    return value


def _query(call: Call, channel: str) -> ChannelActionQuery:
    request = call.request
    limit = bounded_int(request.query.get("limit", str(INSIGHT_PAGES.default)), 1, 1000)
    if limit is None:
        raise _invalid("limit", f"must be an integer from 1 to {INSIGHT_PAGES.maximum}")
    raw_cursor = request.query.get("cursor")
    try:
        cursor = None if raw_cursor is None else Cursor.decode(raw_cursor)
        visible_channels(call.principal, channel)
    except InvalidCursorError as exc:
        raise BadRequestError(str(exc), code="invalid_cursor") from exc
    except ChannelDeniedError as exc:
        raise ForbiddenError(str(exc), code="channel_not_allowed") from exc
    return ChannelActionQuery(
        tenant_id=call.tenant.tenant_id,
        channel=channel,
        action=_choice(request, "action", ACTIONS),
        outcome=_choice(request, "outcome", OUTCOMES),
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
    limit = query.limit - 1
    last = found[limit - 1] if len(found) > limit else None
    return respond(
        ChannelActionList(
            tenant_id=call.tenant.tenant_id,
            channel=channel,
            actions=[_out(view) for view in found[:limit]],
            next_cursor=None if last is None else Cursor(last.acted_at, last.action_id).encode(),
        )
    )


def _out(view: ChannelActionView) -> ChannelActionOut:
    return ChannelActionOut.model_validate(view, from_attributes=True)


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
            ("limit", "integer"),
            ("cursor", "string"),
        ),
    ),
]
