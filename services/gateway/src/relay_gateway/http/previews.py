"""Config previews (issue 16): ``POST …/config/preview`` validates a proposed config as
``PUT …/config`` does (a 422 names the paths; no run), stores it as a version of kind
``preview`` (never current) and queues a run of type ``preview`` on the tenant's latest feeds:
the same engine as a run, through the bus, counted against the tenant's run cap, always a
full snapshot, announced by pricing with ``preview.ready`` so that nothing downstream of
``offers.merged`` (sheets, insights, channels) sees it. ``GET …/previews/{id}`` gives its status
and, once it succeeded, its diff against the tenant's latest successful run."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.runs import PREVIEW_RUN, NewRun
from relay_gateway.domain import config_documents
from relay_gateway.domain.ids import time_sortable_id
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import RunErrorOut
from relay_gateway.http.config import CONFIG_TYPES, proposed_document
from relay_gateway.http.preview_lookup import DIFF, preview_report, tenant_preview
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Body, Route
from relay_shared import keys
from relay_shared.feed_diff import FeedDiff


class PreviewAccepted(BaseModel):
    model_config = ConfigDict(frozen=True)

    preview_id: str
    status: str
    config_version: int


class PreviewOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    preview_id: str
    status: str
    stage: str
    config_version: int
    base_run_id: str | None
    diff: FeedDiff | None
    diff_csv_key: str | None
    error: RunErrorOut | None


async def create_preview(call: Call) -> web.Response:
    context, tenant = call.context, call.tenant
    document, _channels = await proposed_document(call)

    shared = config_documents.with_tenant_channels(document, tenant.channels)

    async def save(version: int) -> str:
        return await context.configs.save(tenant.tenant_id, version, shared)

    version = await context.tenants.add_preview_version(
        tenant.tenant_id, document, call.principal.subject, save
    )
    now = datetime.now(UTC)
    run = NewRun(
        run_id=time_sortable_id("run", now),
        tenant_id=tenant.tenant_id,
        run_type=PREVIEW_RUN,
        config_version=version,
        vendors=None,
        force=False,
        full=True,
        correlation_id=call.correlation_id,
        requested_at=now,
    )
    async with context.runs.unit() as unit:
        await unit.insert_run(run)
    await context.dispatcher.try_dispatch(tenant.tenant_id)
    accepted = PreviewAccepted(preview_id=run.run_id, status="QUEUED", config_version=version)
    return respond(accepted, 202)


async def get_preview(call: Call) -> web.Response:
    preview_id = call.request.match_info["preview_id"]
    run = await tenant_preview(call.context, call.tenant.tenant_id, preview_id)
    report = await preview_report(call.context, run)
    error = run.progress.error
    return respond(
        PreviewOut(
            preview_id=run.run_id,
            status=run.progress.status,
            stage=run.progress.stage,
            config_version=run.config_version,
            base_run_id=None if report is None else report.base_run_id,
            diff=None if report is None else report.diff,
            diff_csv_key=None
            if report is None
            else keys.report_key(run.tenant_id, run.run_id, DIFF),
            error=None
            if error is None
            else RunErrorOut(code=error.code, message=error.message, report_key=error.report_key),
        )
    )


TENANT = "/v1/tenants/{tenant_id}"
ROUTES = [
    Route(
        method="POST",
        path=f"{TENANT}/config/preview",
        handler=create_preview,
        summary="Preview a proposed config on the latest feeds (a run of type preview)",
        role=Role.OWNER,
        ok=202,
        returns=PreviewAccepted,
        errors=(400, 413, 415, 422),
        body=Body(media_types=CONFIG_TYPES, description="the proposed config (YAML or JSON)"),
    ),
    Route(
        method="GET",
        path=f"{TENANT}/previews/{{preview_id}}",
        handler=get_preview,
        summary="A config preview: its status and, once it succeeded, its diff",
        role=Role.VIEWER,
        ok=200,
        returns=PreviewOut,
        errors=(409,),
    ),
]
