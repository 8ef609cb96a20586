"""A tenant's vendor pulls (``inbound.type`` https or sftp), from the gateway's read model fed
by ingest's ``vendor.pulled``: per vendor its last attempt, outcome (``pending`` not pulled
yet, ``ok`` a new feed, ``unchanged`` nothing new, ``retrying`` a transient failure tried
again at ``next_due_at``, ``failed`` a permanent one or attempts exhausted), the error and the
next scheduled time."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.vendor_pulls import PullView, TenantPulls
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import DependencyUnavailableError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route

TENANT_PULLS = web.AppKey("tenant_pulls", TenantPulls)


class PullList(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    vendors: list[PullView]
    failed: int


async def list_pulls(call: Call) -> web.Response:
    pulls = call.request.app.get(TENANT_PULLS)
    if pulls is None:
        raise DependencyUnavailableError("the gateway is starting")
    found = await pulls.repository.of_tenant(call.tenant.tenant_id)
    return respond(
        PullList(
            tenant_id=call.tenant.tenant_id,
            vendors=found,
            failed=sum(1 for pull in found if pull.status == "failed"),
        )
    )


ROUTES = [
    Route(
        method="GET",
        path="/v1/tenants/{tenant_id}/pulls",
        handler=list_pulls,
        summary="The tenant's vendor pulls: last attempt, outcome, error, next scheduled time",
        role=Role.VIEWER,
        ok=200,
        returns=PullList,
        errors=(),
    ),
]
