"""Runs: request one (idempotent), list, inspect, fetch artifacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from relay_gateway.adapters.runs import NewRun, RunView
from relay_gateway.domain.idempotency import Replay, decide, request_fingerprint, valid_key
from relay_gateway.domain.ids import time_sortable_id
from relay_gateway.domain.pagination import RUN_PAGES, Cursor
from relay_gateway.domain.roles import Principal, Role
from relay_gateway.domain.run_timings import attempts, stage_timings
from relay_gateway.http.access import Call
from relay_gateway.http.api_models import (
    Artifact,
    ArtifactList,
    CreateRun,
    RunAccepted,
    RunCounts,
    RunErrorOut,
    RunList,
    RunOut,
    StageTimingsOut,
    VendorOut,
)
from relay_gateway.http.bodies import read_model
from relay_gateway.http.config import current_config
from relay_gateway.http.context import GatewayContext
from relay_gateway.http.errors import (
    BadRequestError,
    ConflictError,
    UnknownResourceError,
    UnprocessableError,
)
from relay_gateway.http.listing_query import (
    PAGING,
    choice,
    invalid,
    next_page,
    page_cursor,
    page_limit,
)
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Body, Route
from relay_shared import keys
from relay_shared.run_states import STATUSES

IDEMPOTENCY_HEADER = "Idempotency-Key"


REQUEST_NOT_VALID = "the request is not valid"


def _invalid(path: str, message: str) -> UnprocessableError:
    return invalid(path, message, REQUEST_NOT_VALID)


def _target_tenant(principal: Principal, given: str | None) -> str:
    tenant_id = given or principal.tenant_id
    if tenant_id is None:
        raise _invalid("tenant_id", "is required for a platform key")
    return tenant_id


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not valid_key(key):
        raise BadRequestError("the Idempotency-Key is not valid", code="invalid_idempotency_key")
    return key


async def create_run(call: Call) -> web.Response:
    idempotency_key = _idempotency_key(call.request)
    body, raw = await read_model(call.request, CreateRun)
    tenant = await call.tenant_named(_target_tenant(call.principal, body.tenant_id))
    current = await current_config(call.context, tenant.tenant_id)
    if current is None:
        raise ConflictError("the tenant has no config yet", code="no_config")
    known = {vendor.vendor_id for vendor in current.config.vendors}
    for index, vendor in enumerate(body.vendors or []):
        if vendor not in known:
            raise _invalid(f"vendors[{index}]", f"unknown vendor {vendor!r}")
    run = NewRun(
        run_id=time_sortable_id("run", datetime.now(UTC)),
        tenant_id=tenant.tenant_id,
        run_type=body.run_type,
        config_version=current.version,
        vendors=None if body.vendors is None else sorted(set(body.vendors)),
        force=body.force,
        full=body.full,
        correlation_id=call.correlation_id,
        requested_at=datetime.now(UTC),
    )
    fingerprint = request_fingerprint({**raw, "tenant_id": tenant.tenant_id})
    accepted = await _store_run(call.context, run, idempotency_key, fingerprint)
    await call.context.dispatcher.try_dispatch(tenant.tenant_id)
    return respond(accepted, 202)


async def _store_run(
    context: GatewayContext, run: NewRun, idempotency_key: str | None, fingerprint: str
) -> RunAccepted:
    """Store the run QUEUED (or find the one this Idempotency-Key already made)."""
    async with context.runs.unit() as unit:
        if idempotency_key is not None:
            stored = await unit.lock_idempotency_key(
                run.tenant_id, idempotency_key, context.settings.idempotency_ttl_s
            )
            decision = decide(stored, fingerprint)
            if decision is Replay.CONFLICT:
                raise ConflictError(
                    "this Idempotency-Key was used with another body", code="idempotency_conflict"
                )
            if decision is Replay.REPLAY and stored is not None:
                first = await context.runs.get(stored.run_id)
                version = run.config_version if first is None else first.config_version
                return RunAccepted(run_id=stored.run_id, status="QUEUED", config_version=version)
            await unit.insert_run(run)
            await unit.save_idempotency_key(run.tenant_id, idempotency_key, fingerprint, run.run_id)
        else:
            await unit.insert_run(run)
    return RunAccepted(run_id=run.run_id, status="QUEUED", config_version=run.config_version)


def run_out(run: RunView) -> RunOut:
    progress = run.progress
    error = progress.error
    return RunOut(
        run_id=run.run_id,
        tenant_id=run.tenant_id,
        status=progress.status,
        stage=progress.stage,
        config_version=run.config_version,
        requested_at=run.requested_at,
        started_at=progress.started_at,
        finished_at=progress.finished_at,
        vendors={
            vendor_id: VendorOut(
                status=v.status,
                rows=v.rows,
                accepted=v.accepted,
                rejected=v.rejected,
                duplicates=v.duplicates,
            )
            for vendor_id, v in run.vendors.items()
        },
        counts=RunCounts(merged_rows=run.merged_rows, skus_left_out=run.skus_left_out),
        timings=StageTimingsOut.model_validate(
            stage_timings(run.requested_at, run.published_at, run.sightings), from_attributes=True
        ),
        attempts=attempts(run.sightings),
        error=None
        if error is None
        else RunErrorOut(code=error.code, message=error.message, report_key=error.report_key),
    )


def _list_params(request: web.Request) -> tuple[str | None, int, Cursor | None]:
    status = choice(request, "status", STATUSES, REQUEST_NOT_VALID)
    return status, page_limit(request, RUN_PAGES, REQUEST_NOT_VALID), page_cursor(request)


async def list_runs(call: Call) -> web.Response:
    status, limit, cursor = _list_params(call.request)
    tenant_id = _target_tenant(call.principal, call.request.query.get("tenant_id"))
    tenant = await call.tenant_named(tenant_id)
    runs = await call.context.runs.page(tenant.tenant_id, status, limit + 1, cursor)
    page, next_cursor = next_page(runs, limit, lambda run: Cursor(run.requested_at, run.run_id))
    return respond(RunList(runs=[run_out(run) for run in page], next_cursor=next_cursor))


async def _visible_run(call: Call) -> RunView:
    """The path's run, when the caller holds the route's role on its tenant."""
    run = await call.context.runs.get(call.request.match_info["run_id"])
    if run is None:
        raise UnknownResourceError("no such run")
    call.check_tenant(run.tenant_id, what="run")
    return run


async def get_run(call: Call) -> web.Response:
    return respond(run_out(await _visible_run(call)))


#: What a run writes for the services, not for the merchant: the explain index (read by
#: ``GET …/skus/{sku}/explain``).
INTERNAL_PREFIXES = ("explain/",)


async def list_artifacts(call: Call) -> web.Response:
    run = await _visible_run(call)
    store = call.context.store
    ttl = call.context.settings.presign_ttl_s
    expires_at = (datetime.now(UTC) + timedelta(seconds=ttl)).replace(microsecond=0)
    artifacts: list[Artifact] = []
    for prefix in (
        keys.output_key(run.tenant_id, run.run_id, ""),
        keys.report_key(run.tenant_id, run.run_id, ""),
    ):
        for found in sorted(await store.list_objects(prefix), key=lambda o: o.key):
            name = found.key.removeprefix(prefix)
            if name.startswith(INTERNAL_PREFIXES):
                continue
            url = await store.presigned_get_url(found.key, ttl)
            artifacts.append(
                Artifact(name=name, key=found.key, size=found.size, url=url, expires_at=expires_at)
            )
    return respond(ArtifactList(run_id=run.run_id, artifacts=artifacts))


ROUTES = [
    Route(
        method="POST",
        path="/v1/runs",
        handler=create_run,
        summary="Request a run (Idempotency-Key honoured)",
        role=Role.OPERATOR,
        ok=202,
        returns=RunAccepted,
        errors=(400, 404, 409, 415, 422),
        body=Body(model=CreateRun),
        headers=((IDEMPOTENCY_HEADER, "string"),),
    ),
    Route(
        method="GET",
        path="/v1/runs",
        handler=list_runs,
        summary="Runs, newest first",
        role=Role.VIEWER,
        ok=200,
        returns=RunList,
        errors=(400, 404, 422),
        query=(
            ("tenant_id", "string"),
            ("status", "string"),
            *PAGING,
        ),
    ),
    Route(
        method="GET",
        path="/v1/runs/{run_id}",
        handler=get_run,
        summary="A run",
        role=Role.VIEWER,
        ok=200,
        returns=RunOut,
        errors=(404,),
    ),
    Route(
        method="GET",
        path="/v1/runs/{run_id}/artifacts",
        handler=list_artifacts,
        summary="A run's outputs and reports (presigned URLs, 15 min)",
        role=Role.VIEWER,
        ok=200,
        returns=ArtifactList,
        errors=(404,),
    ),
]
