"""Tenants, their API keys and user tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from relay_gateway.access import authorized_tenant, tenant_for
from relay_gateway.adapters.tenants import Tenant, TenantExistsError
from relay_gateway.api_models import (
    ApiKeyCreated,
    CreateApiKey,
    CreateTenant,
    TenantCreated,
    TenantOut,
    TokenOut,
    TokenRequest,
)
from relay_gateway.context import context_of
from relay_gateway.domain.api_keys import hash_api_key, new_api_key, new_key_id
from relay_gateway.domain.roles import (
    AccessDeniedError,
    GrantError,
    Principal,
    Role,
    check_grant,
    check_platform_admin,
    parse_roles,
)
from relay_gateway.domain.tokens import issue_token
from relay_gateway.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnprocessableError,
)
from relay_gateway.request_bodies import read_model
from relay_gateway.responses import respond
from relay_gateway.routing import Body, Route
from relay_shared.tenant_config import ConfigProblem


def tenant_out(tenant: Tenant) -> TenantOut:
    return TenantOut(
        tenant_id=tenant.tenant_id,
        name=tenant.name,
        channels=tenant.channels,
        config_version=tenant.config_version,
    )


async def create_tenant(request: web.Request) -> web.Response:
    context = context_of(request)
    principal = await context.principal(request)
    try:
        check_platform_admin(principal)
    except AccessDeniedError as exc:
        raise ForbiddenError(str(exc)) from exc
    body, _ = await read_model(request, CreateTenant)
    tenant = Tenant(body.tenant_id, body.name, sorted(set(body.channels)), None)
    api_key = new_api_key()
    try:
        await context.tenants.create(
            tenant, new_key_id(), hash_api_key(api_key), frozenset({Role.OWNER})
        )
    except TenantExistsError as exc:
        raise ConflictError("the tenant exists", code="tenant_exists") from exc
    return respond(TenantCreated(tenant=tenant_out(tenant), api_key=api_key), 201)


async def get_tenant(request: web.Request) -> web.Response:
    _, tenant = await authorized_tenant(request, context_of(request), Role.VIEWER)
    return respond(tenant_out(tenant))


def _grant(principal: Principal, names: list[str]) -> frozenset[Role]:
    roles = parse_roles(names)
    try:
        check_grant(principal, roles)
    except GrantError as exc:
        raise ForbiddenError(str(exc), code="role_not_grantable") from exc
    return roles


async def create_api_key(request: web.Request) -> web.Response:
    context = context_of(request)
    principal, tenant = await authorized_tenant(request, context, Role.OWNER)
    body, _ = await read_model(request, CreateApiKey)
    roles = _grant(principal, list(body.roles))
    key_id, api_key = new_key_id(), new_api_key()
    await context.tenants.add_key(key_id, tenant.tenant_id, hash_api_key(api_key), roles)
    return respond(ApiKeyCreated(key_id=key_id, api_key=api_key), 201)


async def revoke_api_key(request: web.Request) -> web.Response:
    context = context_of(request)
    _, tenant = await authorized_tenant(request, context, Role.OWNER)
    if not await context.tenants.revoke_key(tenant.tenant_id, request.match_info["key_id"]):
        raise NotFoundError("no such api key")
    return web.Response(status=204)


async def issue_user_token(request: web.Request) -> web.Response:
    context = context_of(request)
    principal = await context.principal(request)
    if principal.kind != "api_key":
        raise ForbiddenError("tokens are issued to API key holders")
    body, _ = await read_model(request, TokenRequest)
    tenant_id = principal.tenant_id or body.tenant_id
    if tenant_id is None:
        problem = ConfigProblem("tenant_id", "is required for a platform key")
        raise UnprocessableError("the body is not valid", [problem])
    if principal.tenant_id is not None and body.tenant_id not in (None, tenant_id):
        raise NotFoundError("no such tenant")
    tenant = await tenant_for(context, principal, tenant_id, Role.OWNER)
    roles = _grant(principal, list(body.roles))
    unknown = sorted(set(body.channels) - set(tenant.channels))
    if unknown:
        problems = [ConfigProblem("channels", f"not a channel of the tenant: {c}") for c in unknown]
        raise UnprocessableError("the body is not valid", problems)
    issued = issue_token(
        secret=context.settings.secret_key.get_secret_value(),
        key_id=principal.subject,
        subject=body.sub,
        tenant_id=tenant.tenant_id,
        roles=sorted(roles, key=lambda role: role.value),
        channels=body.channels,
        now=datetime.now(UTC),
        ttl=timedelta(seconds=context.settings.token_ttl_s),
    )
    return respond(TokenOut(token=issued.token, expires_at=issued.expires_at))


TENANT = "/v1/tenants/{tenant_id}"
ROUTES = [
    Route(
        "POST",
        "/v1/tenants",
        create_tenant,
        "Create a tenant and its first owner key",
        "admin",
        201,
        TenantCreated,
        (400, 401, 403, 409, 415, 422),
        Body(CreateTenant),
    ),
    Route("GET", TENANT, get_tenant, "A tenant", "viewer", 200, TenantOut, (401, 403, 404)),
    Route(
        "POST",
        f"{TENANT}/api-keys",
        create_api_key,
        "Create an API key (shown once)",
        "owner",
        201,
        ApiKeyCreated,
        (400, 401, 403, 404, 415, 422),
        Body(CreateApiKey),
    ),
    Route(
        "DELETE",
        f"{TENANT}/api-keys/{{key_id}}",
        revoke_api_key,
        "Revoke an API key",
        "owner",
        204,
        None,
        (401, 403, 404),
    ),
    Route(
        "POST",
        "/v1/auth/token",
        issue_user_token,
        "Issue a user JWT (24 h)",
        "owner",
        200,
        TokenOut,
        (400, 401, 403, 404, 415, 422),
        Body(TokenRequest),
    ),
]
