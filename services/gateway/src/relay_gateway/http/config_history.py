"""A tenant's config history: every version with who activated it and how, and restoring an
earlier version (it becomes current again as a new version, so history only grows)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from relay_gateway.adapters.tenants import HistoryEntry, Provenance
from relay_gateway.domain import config_documents
from relay_gateway.domain.pagination import RUN_PAGES
from relay_gateway.domain.query_params import INT32_MAX
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import ConfigSaved
from relay_gateway.http.bodies import read_model
from relay_gateway.http.errors import ConflictError, UnknownResourceError
from relay_gateway.http.listing_query import page_limit
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Body, Route
from relay_gateway.http.tenants import publish_pending, tenant_configured
from relay_shared.tenant_config import ConfigError


class RestoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=INT32_MAX)


class ConfigVersionOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    config_version: int
    created_by: str
    created_at: datetime
    current: bool
    restored_from: int | None
    preview_id: str | None
    forced: bool


class ConfigHistory(BaseModel):
    model_config = ConfigDict(frozen=True)

    versions: list[ConfigVersionOut]


async def restore_config(call: Call) -> web.Response:
    """Make ``version`` current again, as a new version that names it."""
    context, tenant = call.context, call.tenant
    body, _raw = await read_model(call.request, RestoreConfig)
    stored = await context.tenants.config(tenant.tenant_id, body.version)
    if stored is None or stored.kind != "active":  # a preview's config was never activated
        raise UnknownResourceError("no such config version", code="no_config")
    try:
        config_documents.stored_config(stored.config)
    except ConfigError as exc:
        raise ConflictError(
            f"config version {body.version} no longer validates", code="invalid_config"
        ) from exc
    document = stored.config  # as stored: its secrets stay sealed
    channels = config_documents.configured_channels(document, tenant.channels)
    shared = config_documents.with_tenant_channels(document, tenant.channels)

    async def save(version: int) -> str:
        return await context.configs.save(tenant.tenant_id, version, shared)

    version = await context.tenants.add_config_version(
        tenant.tenant_id,
        document,
        call.principal.subject,
        save,
        lambda version: [tenant_configured(tenant, channels, version, call.correlation_id)],
        provenance=Provenance(restored_from=body.version),
    )
    await publish_pending(call)
    return respond(ConfigSaved(tenant_id=tenant.tenant_id, config_version=version), 201)


async def config_history(call: Call) -> web.Response:
    limit = page_limit(call.request, RUN_PAGES)
    entries = await call.context.tenants.config_history(call.tenant.tenant_id, limit)
    return respond(ConfigHistory(versions=[_version_out(entry) for entry in entries]))


def _version_out(entry: HistoryEntry) -> ConfigVersionOut:
    return ConfigVersionOut(
        config_version=entry.version,
        created_by=entry.created_by,
        created_at=entry.created_at,
        current=entry.current,
        restored_from=entry.provenance.restored_from,
        preview_id=entry.provenance.preview_id,
        forced=entry.provenance.forced,
    )


TENANT = "/v1/tenants/{tenant_id}"
ROUTES = [
    Route(
        method="GET",
        path=f"{TENANT}/config/versions",
        handler=config_history,
        summary="The config versions, newest first: who activated each, restored or previewed",
        role=Role.VIEWER,
        ok=200,
        returns=ConfigHistory,
        errors=(422,),
        query=(("limit", "integer"),),
    ),
    Route(
        method="POST",
        path=f"{TENANT}/config/restore",
        handler=restore_config,
        summary="Make an earlier config version current again (as a new version)",
        role=Role.OWNER,
        ok=201,
        returns=ConfigSaved,
        errors=(404, 409, 422),
        body=Body(model=RestoreConfig),
    ),
]
