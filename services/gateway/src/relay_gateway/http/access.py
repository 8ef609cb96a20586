"""The one place a route's declared access rule is enforced, before its handler runs.

For a route with a role: authenticate (401), then for ``Role.ADMIN`` require a platform admin
(403), and for a route with a ``{tenant_id}`` path segment load that tenant with the route's
role (404 for an unknown or another tenant's, 403 without the role). The handler gets a
:class:`Call`: the request, the caller and that tenant. A tenant named in the query or the
body, or owning a loaded resource, is checked with the same declared role through
:meth:`Call.tenant_named` and :meth:`Call.check_tenant`, at the point the handler has read it
(so the order of checks, and the status a request gets, stays the handler's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from relay_gateway.adapters.tenants import Tenant
from relay_gateway.domain.roles import AccessDeniedError, Principal, Role, check_platform_admin
from relay_gateway.http.authentication import authenticate, authorize
from relay_gateway.http.context import GatewayContext, context_of, correlation_id_of
from relay_gateway.http.errors import ForbiddenError, UnknownResourceError
from relay_gateway.http.routing import TENANT_PARAMETER, Auth, Route

WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Call:
    """A request its route's access rule admitted: who calls, and the path's tenant."""

    request: web.Request
    route: Route
    caller: Principal | None = None
    path_tenant: Tenant | None = None

    @property
    def context(self) -> GatewayContext:
        return context_of(self.request)

    @property
    def correlation_id(self) -> str:
        return correlation_id_of(self.request)

    @property
    def principal(self) -> Principal:
        if self.caller is None:
            raise RuntimeError(f"{self.route.method} {self.route.path} takes no credentials")
        return self.caller

    @property
    def tenant(self) -> Tenant:
        """The tenant of the ``{tenant_id}`` path segment, checked with the route's role."""
        if self.path_tenant is None:
            raise RuntimeError(f"{self.route.path} has no {{{TENANT_PARAMETER}}} segment")
        return self.path_tenant

    @property
    def role(self) -> Role:
        if isinstance(self.route.role, Auth):
            raise RuntimeError(f"{self.route.method} {self.route.path} needs no role")
        return self.route.role

    async def tenant_named(self, tenant_id: str) -> Tenant:
        """The tenant a query or body names, checked with the route's role."""
        return await load_tenant(self.context, self.principal, tenant_id, self.role)

    def check_tenant(self, tenant_id: str, what: str) -> None:
        """Check that the caller holds the route's role on the tenant owning a ``what``
        (404 naming it when it is another tenant's)."""
        authorize(self.principal, tenant_id, self.role, what=what)


async def load_tenant(
    context: GatewayContext, principal: Principal, tenant_id: str, required: Role
) -> Tenant:
    """The tenant, when ``principal`` holds ``required`` on it; unknown and foreign tenants
    are both 404."""
    authorize(principal, tenant_id, required)
    tenant = await context.tenants.get(tenant_id)
    if tenant is None:
        raise UnknownResourceError("no such tenant")
    return tenant


async def admit(route: Route, request: web.Request) -> Call:
    """Apply ``route``'s access rule to ``request``."""
    if isinstance(route.role, Auth):
        return Call(request, route)
    context = context_of(request)
    principal = await authenticate(
        request, context.tenants, context.settings.secret_key.get_secret_value()
    )
    if route.role is Role.ADMIN:
        try:
            check_platform_admin(principal)
        except AccessDeniedError as exc:
            raise ForbiddenError(str(exc)) from exc
        return Call(request, route, principal)
    if not route.tenant_in_path:
        return Call(request, route, principal)
    tenant_id = request.match_info[TENANT_PARAMETER]
    tenant = await load_tenant(context, principal, tenant_id, route.role)
    return Call(request, route, principal, tenant)


def guarded(route: Route) -> WebHandler:
    """The aiohttp handler of ``route``: its access rule, then its handler."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await route.handler(await admit(route, request))

    return handle


def add_routes(app: web.Application, routes: list[Route]) -> None:
    for route in routes:
        app.router.add_route(route.method, route.path, guarded(route))
