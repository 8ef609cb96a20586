"""Tenant config versions and SKU maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from relay_gateway.adapters.tenants import ConfigVersion, Tenant
from relay_gateway.domain import config_documents
from relay_gateway.domain.bounded_documents import DocumentRefusedError
from relay_gateway.domain.query_params import INT32_MAX, bounded_int
from relay_gateway.domain.roles import Role
from relay_gateway.domain.sku_maps import SkuMapInvalidError, validate_sku_map
from relay_gateway.http.access import Call
from relay_gateway.http.activation import REQUIRE_PREVIEW, activation_provenance
from relay_gateway.http.api_models import ConfigOut, ConfigSaved, SkuMapSaved
from relay_gateway.http.bodies import media_type, read_limited
from relay_gateway.http.context import GatewayContext
from relay_gateway.http.errors import (
    BadRequestError,
    ConflictError,
    DependencyUnavailableError,
    UnknownResourceError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Body, Route
from relay_gateway.http.tenants import publish_pending, tenant_configured
from relay_shared import keys
from relay_shared.channel_config import parse_channel_sections
from relay_shared.events import TenantConfigured
from relay_shared.tenant_config import (
    ConfigError,
    ConfigProblem,
    TenantConfig,
    VendorConfig,
    parse_tenant_config,
)

MAX_CONFIG_BYTES = 1024 * 1024
CONFIG_TYPES = (*sorted(config_documents.JSON_TYPES), *sorted(config_documents.YAML_TYPES))


@dataclass(frozen=True)
class CurrentConfig:
    version: int
    config: TenantConfig


async def current_config(context: GatewayContext, tenant_id: str) -> CurrentConfig | None:
    """The tenant's current config version, typed; None when it has none yet."""
    stored = await context.tenants.config(tenant_id)
    if stored is None:
        return None
    try:
        config = config_documents.stored_config(stored.config)
    except ConfigError as exc:
        raise ConflictError(
            "the current config no longer validates: put a new version", code="invalid_config"
        ) from exc
    return CurrentConfig(stored.version, config)


async def current_vendor(call: Call) -> VendorConfig:
    """The path's ``{vendor_id}`` in the current config; 404 when it has no such vendor (or
    there is no config)."""
    current = await current_config(call.context, call.tenant.tenant_id)
    vendor_id = call.request.match_info["vendor_id"]
    vendor = None if current is None else config_documents.find_vendor(current.config, vendor_id)
    if vendor is None:
        raise UnknownResourceError("no such vendor in the current config", code="unknown_vendor")
    return vendor


def _load_config(content_type: str, raw: bytes, tenant: Tenant) -> dict[str, Any]:
    """The config as plain JSON values, after every check a service would make later: a
    problem is a 422 now, never a failed run or a dead letter a minute later."""
    try:
        data = config_documents.load_document(content_type, raw)
    except config_documents.UnknownDocumentTypeError as exc:
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


async def proposed_document(call: Call) -> tuple[dict[str, Any], list[str]]:
    """The request's config as it would be stored (checked as a service would check it, the
    secrets of ``***`` carried from the current version, secrets sealed), and every channel of
    the tenant with it. Shared by ``PUT …/config`` and ``POST …/config/preview``."""
    context, tenant = call.context, call.tenant
    if media_type(call.request) not in CONFIG_TYPES:
        raise UnsupportedMediaTypeError("send application/yaml or application/json")
    raw = await read_limited(call.request, MAX_CONFIG_BYTES)
    document = _load_config(media_type(call.request), raw, tenant)
    channels = config_documents.configured_channels(document, tenant.channels)
    previous = await context.tenants.config(tenant.tenant_id)
    return _sealed(context, _carried(document, previous)), channels


async def put_config(call: Call) -> web.Response:
    context, tenant = call.context, call.tenant
    document, channels = await proposed_document(call)
    provenance = await activation_provenance(call, document)
    # the version other services read: every tenant channel has a section (defaults if none)
    shared = config_documents.with_tenant_channels(document, tenant.channels)

    async def save(version: int) -> str:
        return await context.configs.save(tenant.tenant_id, version, shared)

    def announce(version: int) -> list[TenantConfigured]:
        return [tenant_configured(tenant, channels, version, call.correlation_id)]

    version = await context.tenants.add_config_version(
        tenant.tenant_id,
        document,
        call.principal.subject,
        save,
        announce,
        provenance=provenance,
    )
    await publish_pending(call)
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


async def get_config(call: Call) -> web.Response:
    version = _version_param(call.request)
    stored = await call.context.tenants.config(call.tenant.tenant_id, version)
    if stored is None:
        raise UnknownResourceError("no such config version", code="no_config")
    redacted = config_documents.redact(stored.config)
    return respond(ConfigOut(config_version=stored.version, config=redacted))


async def put_sku_map(call: Call) -> web.Response:
    vendor = await current_vendor(call)
    raw = await read_limited(call.request, call.context.settings.max_sku_map_bytes)
    try:
        rows = validate_sku_map(raw)
    except SkuMapInvalidError as exc:
        raise UnprocessableError(
            "the SKU map is not valid", exc.problems, code="invalid_sku_map"
        ) from exc
    key = keys.sku_map_key(call.tenant.tenant_id, vendor.vendor_id)
    await call.context.store.put_bytes(key, raw, content_type="text/csv")
    return respond(SkuMapSaved(key=key, rows=rows), 201)


TENANT = "/v1/tenants/{tenant_id}"
ROUTES = [
    Route(
        method="PUT",
        path=f"{TENANT}/config",
        handler=put_config,
        summary="Save a new config version",
        role=Role.OWNER,
        ok=201,
        returns=ConfigSaved,
        errors=(400, 404, 409, 413, 415, 422),
        body=Body(media_types=CONFIG_TYPES, description="the tenant config (YAML or JSON)"),
        query=((REQUIRE_PREVIEW, "string"), ("force", "boolean")),
    ),
    Route(
        method="GET",
        path=f"{TENANT}/config",
        handler=get_config,
        summary="A config version (secrets redacted)",
        role=Role.VIEWER,
        ok=200,
        returns=ConfigOut,
        errors=(422,),
        query=(("version", "integer"),),
    ),
    Route(
        method="PUT",
        path=f"{TENANT}/vendors/{{vendor_id}}/sku-map",
        handler=put_sku_map,
        summary="Replace a vendor's SKU map (CSV vendor_sku,sku)",
        role=Role.OPERATOR,
        ok=201,
        returns=SkuMapSaved,
        errors=(413, 422),
        body=Body(media_types=("text/csv",), description="CSV with vendor_sku,sku"),
    ),
]
