"""Runs: request one (idempotent), list, inspect, fetch artifacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from relay_gateway.access import tenant_for
from relay_gateway.adapters.runs import NewRun, RunView
from relay_gateway.api_models import (
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
from relay_gateway.authentication import authorize
from relay_gateway.context import GatewayContext, context_of, correlation_id_of
from relay_gateway.domain import config_documents
from relay_gateway.domain.idempotency import Replay, decide, request_fingerprint, valid_key
from relay_gateway.domain.ids import time_sortable_id
from relay_gateway.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor, InvalidCursorError
from relay_gateway.domain.query_params import bounded_int
from relay_gateway.domain.roles import Principal, Role
from relay_gateway.domain.run_progress import STATUSES
from relay_gateway.domain.run_timings import attempts, stage_timings
from relay_gateway.errors import BadRequestError, ConflictError, NotFoundError, UnprocessableError
from relay_gateway.request_bodies import read_model
from relay_gateway.responses import respond
from relay_gateway.routing import Body, Route
from relay_shared import keys
from relay_shared.tenant_config import ConfigProblem

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _invalid(path: str, message: str) -> UnprocessableError:
    return UnprocessableError("the request is not valid", [ConfigProblem(path, message)])


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


async def create_run(request: web.Request) -> web.Response:
    context = context_of(request)
    principal = await context.principal(request)
    idempotency_key = _idempotency_key(request)
    body, raw = await read_model(request, CreateRun)
    tenant = await tenant_for(
        context, principal, _target_tenant(principal, body.tenant_id), Role.OPERATOR
    )
    config = await context.tenants.config(tenant.tenant_id)
    if config is None:
        raise ConflictError("the tenant has no config yet", code="no_config")
    known = set(config_documents.vendor_ids(config.config))
    for index, vendor in enumerate(body.vendors or []):
        if vendor not in known:
            raise _invalid(f"vendors[{index}]", f"unknown vendor {vendor!r}")
    run = NewRun(
        run_id=time_sortable_id("run", datetime.now(UTC)),
        tenant_id=tenant.tenant_id,
        run_type=body.run_type,
        config_version=config.version,
        vendors=None if body.vendors is None else sorted(set(body.vendors)),
        force=body.force,
        correlation_id=correlation_id_of(request),
        requested_at=datetime.now(UTC),
    )
    fingerprint = request_fingerprint({**raw, "tenant_id": tenant.tenant_id})
    accepted = await _store_run(context, run, idempotency_key, fingerprint)
    await context.dispatcher.try_dispatch(tenant.tenant_id)
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
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        raise _invalid("status", f"must be one of {', '.join(STATUSES)}")
    limit = bounded_int(request.query.get("limit", str(DEFAULT_LIMIT)), 1, MAX_LIMIT)
    if limit is None:
        raise _invalid("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    raw_cursor = request.query.get("cursor")
    try:
        cursor = None if raw_cursor is None else Cursor.decode(raw_cursor)
    except InvalidCursorError as exc:
        raise BadRequestError(str(exc), code="invalid_cursor") from exc
    return status, limit, cursor


async def list_runs(request: web.Request) -> web.Response:
    context = context_of(request)
    principal = await context.principal(request)
    status, limit, cursor = _list_params(request)
    tenant_id = _target_tenant(principal, request.query.get("tenant_id"))
    tenant = await tenant_for(context, principal, tenant_id, Role.VIEWER)
    runs = await context.runs.page(tenant.tenant_id, status, limit + 1, cursor)
    page, more = runs[:limit], len(runs) > limit
    next_cursor = Cursor(page[-1].requested_at, page[-1].run_id).encode() if more else None
    return respond(RunList(runs=[run_out(run) for run in page], next_cursor=next_cursor))


async def _visible_run(request: web.Request, context: GatewayContext) -> RunView:
    principal = await context.principal(request)
    run = await context.runs.get(request.match_info["run_id"])
    if run is None:
        raise NotFoundError("no such run")
    authorize(principal, run.tenant_id, Role.VIEWER, what="run")
    return run


async def get_run(request: web.Request) -> web.Response:
    context = context_of(request)
    return respond(run_out(await _visible_run(request, context)))


async def list_artifacts(request: web.Request) -> web.Response:
    context = context_of(request)
    run = await _visible_run(request, context)
    ttl = context.settings.presign_ttl_s
    expires_at = (datetime.now(UTC) + timedelta(seconds=ttl)).replace(microsecond=0)
    artifacts: list[Artifact] = []
    for prefix in (
        keys.output_key(run.tenant_id, run.run_id, ""),
        keys.report_key(run.tenant_id, run.run_id, ""),
    ):
        for found in sorted(await context.store.list_objects(prefix), key=lambda o: o.key):
            url = await context.store.presigned_get_url(found.key, ttl)
            name = found.key.removeprefix(prefix)
            artifacts.append(
                Artifact(name=name, key=found.key, size=found.size, url=url, expires_at=expires_at)
            )
    return respond(ArtifactList(run_id=run.run_id, artifacts=artifacts))


ROUTES = [
    Route(
        "POST",
        "/v1/runs",
        create_run,
        "Request a run (Idempotency-Key honoured)",
        "operator",
        202,
        RunAccepted,
        (400, 401, 403, 404, 409, 415, 422),
        Body(CreateRun),
        headers=((IDEMPOTENCY_HEADER, "string"),),
    ),
    Route(
        "GET",
        "/v1/runs",
        list_runs,
        "Runs, newest first",
        "viewer",
        200,
        RunList,
        (400, 401, 403, 404, 422),
        query=(
            ("tenant_id", "string"),
            ("status", "string"),
            ("limit", "integer"),
            ("cursor", "string"),
        ),
    ),
    Route("GET", "/v1/runs/{run_id}", get_run, "A run", "viewer", 200, RunOut, (401, 403, 404)),
    Route(
        "GET",
        "/v1/runs/{run_id}/artifacts",
        list_artifacts,
        "A run's outputs and reports (presigned URLs, 15 min)",
        "viewer",
        200,
        ArtifactList,
        (401, 403, 404),
    ),
]
