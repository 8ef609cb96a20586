"""Tenant config versions and SKU maps."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from relay_gateway.access import authorized_tenant
from relay_gateway.adapters.tenants import ConfigVersion, Tenant
from relay_gateway.api_models import ConfigOut, ConfigSaved, SkuMapSaved
from relay_gateway.context import GatewayContext, context_of
from relay_gateway.domain import config_documents
from relay_gateway.domain.bounded_documents import DocumentRefusedError
from relay_gateway.domain.query_params import INT32_MAX, bounded_int
from relay_gateway.domain.roles import Role
from relay_gateway.domain.sku_maps import SkuMapInvalidError, validate_sku_map
from relay_gateway.errors import (
    BadRequestError,
    DependencyUnavailableError,
    NotFoundError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from relay_gateway.request_bodies import media_type, read_limited
from relay_gateway.responses import respond
from relay_gateway.routing import Body, Route
from relay_shared import keys
from relay_shared.channel_config import parse_channel_sections
from relay_shared.tenant_config import (
    ConfigError,
    ConfigProblem,
    TenantConfig,
    parse_tenant_config,
)

MAX_CONFIG_BYTES = 1024 * 1024
CONFIG_TYPES = (*sorted(config_documents.JSON_TYPES), *sorted(config_documents.YAML_TYPES))


def _load_config(content_type: str, raw: bytes, tenant: Tenant) -> dict[str, Any]:
    """The config as plain JSON values, after every check a service would make later: a
    problem is a 422 now, never a failed run or a dead letter a minute later."""
    try:
        data = config_documents.load_document(content_type, raw)
    except config_documents.UnsupportedMediaTypeError as exc:
        raise UnsupportedMediaTypeError("send application/yaml or application/json") from exc
    except DocumentRefusedError as exc:
        if exc.path:
            raise _invalid([ConfigProblem(exc.path, exc.reason)]) from exc
        raise BadRequestError(str(exc), code="malformed_document") from exc
    if not isinstance(data, dict):
        raise _invalid([ConfigProblem("", "a tenant config must be a mapping")])
    data.setdefault("tenant_id", tenant.tenant_id)
    try:
        document = config_documents.to_json_document(data)
        config = parse_tenant_config(document, tenant_id=tenant.tenant_id)
        parse_channel_sections(config)
    except TypeError as exc:
        raise _invalid([ConfigProblem("", str(exc))]) from exc
    except ConfigError as exc:
        raise _invalid(exc.problems) from exc
    problems = _store_channel_problems(config, tenant)
    if problems:
        raise _invalid(problems)
    return document


def _invalid(problems: list[ConfigProblem]) -> UnprocessableError:
    return UnprocessableError("the config is not valid", problems, code="invalid_config")


def _store_channel_problems(config: TenantConfig, tenant: Tenant) -> list[ConfigProblem]:
    """ShipStation stores map only to the tenant's own channels."""
    stores = {} if config.shipstation is None else config.shipstation.store_channels
    return [
        ConfigProblem(
            f"shipstation.store_channels.{store}", f"{channel!r} is not a channel of the tenant"
        )
        for store, channel in stores.items()
        if channel not in tenant.channels
    ]


async def put_config(request: web.Request) -> web.Response:
    context = context_of(request)
    principal, tenant = await authorized_tenant(request, context, Role.OWNER)
    if media_type(request) not in CONFIG_TYPES:
        raise UnsupportedMediaTypeError("send application/yaml or application/json")
    raw = await read_limited(request, MAX_CONFIG_BYTES)
    document = _load_config(media_type(request), raw, tenant)
    previous = await context.tenants.config(tenant.tenant_id)
    document = _sealed(context, _carried(document, previous))

    async def save(version: int) -> str:
        return await context.configs.save(tenant.tenant_id, version, document)

    version = await context.tenants.add_config_version(
        tenant.tenant_id, document, principal.subject, save
    )
    return respond(ConfigSaved(tenant_id=tenant.tenant_id, config_version=version), 201)


def _carried(document: dict[str, Any], previous: ConfigVersion | None) -> dict[str, Any]:
    try:
        return config_documents.carry_secrets(
            document, None if previous is None else previous.config
        )
    except config_documents.UnknownSecretError as exc:
        problem = ConfigProblem(exc.path, "is *** but no earlier version holds a value")
        raise _invalid([problem]) from exc


def _sealed(context: GatewayContext, document: dict[str, Any]) -> dict[str, Any]:
    """The document with its secrets sealed: stored encrypted in the database and in the
    version object other services read."""
    if context.box is None:
        if config_documents.has_secrets(document):
            raise DependencyUnavailableError(
                "secrets cannot be stored: APP_SECRET_KEY is not set", code="secrets_unavailable"
            )
        return document
    return context.box.seal_config(document)


def _version_param(request: web.Request) -> int | None:
    raw = request.query.get("version")
    if raw is None:
        return None
    version = bounded_int(raw, 1, INT32_MAX)
    if version is None:
        problem = ConfigProblem("version", "must be a positive integer")
        raise UnprocessableError("the query is not valid", [problem])
    return version


async def get_config(request: web.Request) -> web.Response:
    context = context_of(request)
    _, tenant = await authorized_tenant(request, context, Role.VIEWER)
    stored = await context.tenants.config(tenant.tenant_id, _version_param(request))
    if stored is None:
        raise NotFoundError("no such config version", code="no_config")
    redacted = config_documents.redact(stored.config)
    return respond(ConfigOut(config_version=stored.version, config=redacted))


async def put_sku_map(request: web.Request) -> web.Response:
    context = context_of(request)
    _, tenant = await authorized_tenant(request, context, Role.OPERATOR)
    vendor_id = request.match_info["vendor_id"]
    stored = await context.tenants.config(tenant.tenant_id)
    if stored is None or vendor_id not in config_documents.vendor_ids(stored.config):
        raise NotFoundError("no such vendor in the current config", code="unknown_vendor")
    raw = await read_limited(request, context.settings.max_sku_map_bytes)
    try:
        rows = validate_sku_map(raw)
    except SkuMapInvalidError as exc:
        raise UnprocessableError(
            "the SKU map is not valid", exc.problems, code="invalid_sku_map"
        ) from exc
    key = keys.sku_map_key(tenant.tenant_id, vendor_id)
    await context.store.put_bytes(key, raw, content_type="text/csv")
    return respond(SkuMapSaved(key=key, rows=rows), 201)


TENANT = "/v1/tenants/{tenant_id}"
ROUTES = [
    Route(
        "PUT",
        f"{TENANT}/config",
        put_config,
        "Save a new config version",
        "owner",
        201,
        ConfigSaved,
        (400, 401, 403, 404, 413, 415, 422),
        Body(None, CONFIG_TYPES, "the tenant config (YAML or JSON)"),
    ),
    Route(
        "GET",
        f"{TENANT}/config",
        get_config,
        "A config version (secrets redacted)",
        "viewer",
        200,
        ConfigOut,
        (401, 403, 404, 422),
        query=(("version", "integer"),),
    ),
    Route(
        "PUT",
        f"{TENANT}/vendors/{{vendor_id}}/sku-map",
        put_sku_map,
        "Replace a vendor's SKU map (CSV vendor_sku,sku)",
        "operator",
        201,
        SkuMapSaved,
        (401, 403, 404, 413, 422),
        Body(None, ("text/csv",), "CSV with vendor_sku,sku"),
    ),
]
