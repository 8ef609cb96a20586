"""Tenants, their API keys and user tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from aiohttp import web

from relay_gateway.adapters.tenants import Tenant, TenantExistsError
from relay_gateway.domain.api_keys import hash_api_key, new_api_key, new_key_id
from relay_gateway.domain.roles import GrantError, Principal, Role, check_grant, parse_roles
from relay_gateway.domain.tokens import issue_token
from relay_gateway.handlers import DISPATCH_FAILURES
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import (
    ApiKeyCreated,
    CreateApiKey,
    CreateTenant,
    TenantCreated,
    TenantOut,
    TokenOut,
    TokenRequest,
)
from relay_gateway.http.bodies import read_model
from relay_gateway.http.errors import (
    ConflictError,
    ForbiddenError,
    UnknownResourceError,
    UnprocessableError,
)
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Body, Route
from relay_shared import subjects
from relay_shared.events import TenantConfigured, stage_event_id
from relay_shared.tenant_config import ConfigProblem

log = structlog.get_logger(__name__)


def tenant_configured(
    tenant: Tenant, channels: list[str], version: int | None, correlation_id: str
) -> TenantConfigured:
    """The tenant was created (``version`` None) or got config ``version``; ``channels`` are
    all of its channels. Deterministic id: one event per tenant version."""
    return TenantConfigured(
        event_id=stage_event_id(subjects.TENANT_CONFIGURED, tenant.tenant_id, str(version or 0)),
        occurred_at=datetime.now(UTC),
        tenant_id=tenant.tenant_id,
        correlation_id=correlation_id,
        name=tenant.name,
        channels=channels,
        config_version=version,
    )


async def publish_pending(call: Call) -> None:
    """Drain the gateway's outbox now; what fails is left to the periodic drain."""
    try:
        await call.context.dispatcher.publish_pending()
    except DISPATCH_FAILURES as exc:
        log.warning("gateway.outbox_drain_deferred", error=repr(exc))


def tenant_out(tenant: Tenant) -> TenantOut:
    return TenantOut(
        tenant_id=tenant.tenant_id,
        name=tenant.name,
        channels=tenant.channels,
        config_version=tenant.config_version,
    )


async def create_tenant(call: Call) -> web.Response:
    body, _ = await read_model(call.request, CreateTenant)
    tenant = Tenant(body.tenant_id, body.name, sorted(set(body.channels)), None)
    api_key = new_api_key()
    created = tenant_configured(tenant, tenant.channels, None, call.correlation_id)
    try:
        await call.context.tenants.create(
            tenant, new_key_id(), hash_api_key(api_key), frozenset({Role.OWNER}), [created]
        )
    except TenantExistsError as exc:
        raise ConflictError("the tenant exists", code="tenant_exists") from exc
    await publish_pending(call)
    return respond(TenantCreated(tenant=tenant_out(tenant), api_key=api_key), 201)


async def get_tenant(call: Call) -> web.Response:
    return respond(tenant_out(call.tenant))


def _grant(principal: Principal, names: list[str]) -> frozenset[Role]:
    roles = parse_roles(names)
    try:
        check_grant(principal, roles)
    except GrantError as exc:
        raise ForbiddenError(str(exc), code="role_not_grantable") from exc
    return roles


async def create_api_key(call: Call) -> web.Response:
    body, _ = await read_model(call.request, CreateApiKey)
    roles = _grant(call.principal, list(body.roles))
    key_id, api_key = new_key_id(), new_api_key()
    await call.context.tenants.add_key(key_id, call.tenant.tenant_id, hash_api_key(api_key), roles)
    return respond(ApiKeyCreated(key_id=key_id, api_key=api_key), 201)


async def revoke_api_key(call: Call) -> web.Response:
    key_id = call.request.match_info["key_id"]
    if not await call.context.tenants.revoke_key(call.tenant.tenant_id, key_id):
        raise UnknownResourceError("no such api key")
    return web.Response(status=204)


async def _token_tenant(call: Call, named: str | None) -> Tenant:
    """The tenant a token is for: the key's own (naming another is 404), or the one a
    platform key names."""
    principal = call.principal
    tenant_id = principal.tenant_id or named
    if tenant_id is None:
        problem = ConfigProblem("tenant_id", "is required for a platform key")
        raise UnprocessableError("the body is not valid", [problem])
    if principal.tenant_id is not None and named not in (None, tenant_id):
        raise UnknownResourceError("no such tenant")
    return await call.tenant_named(tenant_id)


async def issue_user_token(call: Call) -> web.Response:
    if call.principal.kind != "api_key":
        raise ForbiddenError("tokens are issued to API key holders")
    body, _ = await read_model(call.request, TokenRequest)
    tenant = await _token_tenant(call, body.tenant_id)
    roles = _grant(call.principal, list(body.roles))
    unknown = sorted(set(body.channels) - set(tenant.channels))
    if unknown:
        problems = [ConfigProblem("channels", f"not a channel of the tenant: {c}") for c in unknown]
        raise UnprocessableError("the body is not valid", problems)
    settings = call.context.settings
    issued = issue_token(
        secret=settings.secret_key.get_secret_value(),
        key_id=call.principal.subject,
        subject=body.sub,
        tenant_id=tenant.tenant_id,
        roles=sorted(roles, key=lambda role: role.value),
        channels=body.channels,
        now=datetime.now(UTC),
        ttl=timedelta(seconds=settings.token_ttl_s),
    )
    return respond(TokenOut(token=issued.token, expires_at=issued.expires_at))


TENANT = "/v1/tenants/{tenant_id}"
ROUTES = [
    Route(
        method="POST",
        path="/v1/tenants",
        handler=create_tenant,
        summary="Create a tenant and its first owner key",
        role=Role.ADMIN,
        ok=201,
        returns=TenantCreated,
        errors=(400, 409, 415, 422),
        body=Body(model=CreateTenant),
    ),
    Route(
        method="GET",
        path=TENANT,
        handler=get_tenant,
        summary="A tenant",
        role=Role.VIEWER,
        ok=200,
        returns=TenantOut,
    ),
    Route(
        method="POST",
        path=f"{TENANT}/api-keys",
        handler=create_api_key,
        summary="Create an API key (shown once)",
        role=Role.OWNER,
        ok=201,
        returns=ApiKeyCreated,
        errors=(400, 415, 422),
        body=Body(model=CreateApiKey),
    ),
    Route(
        method="DELETE",
        path=f"{TENANT}/api-keys/{{key_id}}",
        handler=revoke_api_key,
        summary="Revoke an API key",
        role=Role.OWNER,
        ok=204,
    ),
    Route(
        method="POST",
        path="/v1/auth/token",
        handler=issue_user_token,
        summary="Issue a user JWT (24 h)",
        role=Role.OWNER,
        ok=200,
        returns=TokenOut,
        errors=(400, 404, 415, 422),
        body=Body(model=TokenRequest),
    ),
]
