"""A tenant's spreadsheets and their sync state, from the gateway's read model fed by
``sheet.synced``: each one's backend, last sync, and any permanent problem with its reason
(the file was deleted or unshared, a write past Google's cell limit...). Channel-scoped: a
principal whose token carries a ``channels`` claim sees only those channels' spreadsheets
(and not the tenant's root ones)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.sheets import SheetView, TenantSheets
from relay_gateway.domain.insights import visible_channels
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import DependencyUnavailableError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route

TENANT_SHEETS = web.AppKey("tenant_sheets", TenantSheets)


class SheetOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: str | None
    title: str
    backend: Literal["xlsx", "google"]
    file_id: str | None
    state: Literal["ok", "failed"]
    problem_code: str | None
    problem: str | None
    synced_at: datetime | None
    reported_at: datetime


class SheetList(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    sheets: list[SheetOut]
    failed: int


async def list_sheets(call: Call) -> web.Response:
    sheets = call.request.app.get(TENANT_SHEETS)
    if sheets is None:
        raise DependencyUnavailableError("the gateway is starting")
    found = await sheets.repository.of_tenant(call.tenant.tenant_id)
    allowed = visible_channels(call.principal, None)
    if allowed is not None:
        found = [view for view in found if view.channel in allowed]
    out = [_out(view) for view in found]
    return respond(
        SheetList(
            tenant_id=call.tenant.tenant_id,
            sheets=out,
            failed=sum(1 for sheet in out if sheet.state == "failed"),
        )
    )


def _out(view: SheetView) -> SheetOut:
    return SheetOut.model_validate(view, from_attributes=True)


ROUTES = [
    Route(
        method="GET",
        path="/v1/tenants/{tenant_id}/sheets",
        handler=list_sheets,
        summary="The tenant's spreadsheets: backend, last sync, any permanent problem and why",
        role=Role.VIEWER,
        ok=200,
        returns=SheetList,
        errors=(),
    ),
]
