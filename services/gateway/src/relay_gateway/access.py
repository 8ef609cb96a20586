"""Loading a tenant on behalf of a principal: unknown and foreign tenants are both 404."""

from __future__ import annotations

from aiohttp import web

from relay_gateway.adapters.tenants import Tenant
from relay_gateway.authentication import authorize
from relay_gateway.context import GatewayContext
from relay_gateway.domain.roles import Principal, Role
from relay_gateway.errors import NotFoundError


async def tenant_for(
    context: GatewayContext, principal: Principal, tenant_id: str, required: Role
) -> Tenant:
    authorize(principal, tenant_id, required)
    tenant = await context.tenants.get(tenant_id)
    if tenant is None:
        raise NotFoundError("no such tenant")
    return tenant


async def authorized_tenant(
    request: web.Request, context: GatewayContext, required: Role
) -> tuple[Principal, Tenant]:
    """The caller and the tenant named by the ``{tenant_id}`` path segment."""
    principal = await context.principal(request)
    tenant = await tenant_for(context, principal, request.match_info["tenant_id"], required)
    return principal, tenant
