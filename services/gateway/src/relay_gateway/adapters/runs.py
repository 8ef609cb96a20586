"""Runs, their per-vendor results and Idempotency-Keys (schema ``gateway``).

Writes happen in a :class:`RunsUnit` (one transaction): the caller loads, decides with the
domain rules, then saves. A run's ``run.requested`` goes into the schema's outbox
(:class:`relay_shared.outbox.Outbox`) in the transaction that marks the run dispatched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay_gateway.domain.idempotency import IdempotencyRecord
from relay_gateway.domain.pagination import Cursor, after_params
from relay_gateway.domain.run_progress import Progress, free_slots
from relay_gateway.domain.run_timings import Sighting
from relay_shared.events import Event, VendorCounts
from relay_shared.outbox import Outbox
from relay_shared.run_states import RunError

#: The run type of a config preview (``POST …/config/preview``).
PREVIEW_RUN = "preview"


@dataclass(frozen=True)
class NewRun:
    run_id: str
    tenant_id: str
    run_type: str
    config_version: int
    vendors: list[str] | None
    force: bool
    correlation_id: str
    requested_at: datetime
    full: bool = False


@dataclass(frozen=True)
class VendorResult:
    status: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class RunView:
    run_id: str
    tenant_id: str
    config_version: int
    vendors_requested: list[str] | None
    force: bool
    correlation_id: str
    requested_at: datetime
    progress: Progress
    merged_rows: int | None
    skus_left_out: int | None
    published_at: datetime | None = None  # when dispatched (run.requested into the outbox)
    vendors: dict[str, VendorResult] = field(default_factory=dict)
    sightings: list[Sighting] = field(default_factory=list)
    full: bool = False
    run_type: str = "inventory_sync"

    @property
    def is_preview(self) -> bool:
        return self.run_type == PREVIEW_RUN


def _progress(row: asyncpg.Record) -> Progress:
    error = None
    if row["error_code"] is not None:
        error = RunError(row["error_code"], row["error_message"] or "", row["error_report_key"])
    return Progress(row["status"], row["stage"], row["started_at"], row["finished_at"], error)


def _run(
    row: asyncpg.Record,
    vendors: dict[str, VendorResult] | None = None,
    sightings: list[Sighting] | None = None,
) -> RunView:
    return RunView(
        run_id=row["run_id"],
        tenant_id=row["tenant_id"],
        config_version=row["config_version"],
        vendors_requested=None if row["vendors"] is None else list(row["vendors"]),
        force=row["force"],
        correlation_id=row["correlation_id"],
        requested_at=row["requested_at"],
        progress=_progress(row),
        merged_rows=row["merged_rows"],
        skus_left_out=row["skus_left_out"],
        published_at=row["published_at"],
        vendors=vendors or {},
        sightings=sightings or [],
        full=row["full_snapshot"],
        run_type=row["run_type"],
    )


def _sighting(row: asyncpg.Record) -> Sighting:
    return Sighting(row["event_id"], row["stage"], row["seen"], row["first_seen_at"])


class RunsUnit:
    """One transaction on the runs tables."""

    def __init__(self, conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        self._conn = conn

    async def lock_idempotency_key(
        self, tenant_id: str, key: str, ttl_s: int
    ) -> IdempotencyRecord | None:
        """Serialise requests with this key; forget it once older than ``ttl_s``."""
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{tenant_id}/{key}"
        )
        await self._conn.execute(
            "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2"
            " AND created_at < now() - make_interval(secs => $3)",
            tenant_id,
            key,
            float(ttl_s),
        )
        row = await self._conn.fetchrow(
            "SELECT request_hash, run_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
        )
        return None if row is None else IdempotencyRecord(row["request_hash"], row["run_id"])

    async def save_idempotency_key(
        self, tenant_id: str, key: str, request_hash: str, run_id: str
    ) -> None:
        await self._conn.execute(
            "INSERT INTO idempotency_keys (tenant_id, key, request_hash, run_id)"
            " VALUES ($1, $2, $3, $4)",
            tenant_id,
            key,
            request_hash,
            run_id,
        )

    async def insert_run(self, run: NewRun) -> None:
        await self._conn.execute(
            "INSERT INTO runs (run_id, tenant_id, run_type, status, stage, config_version,"
            " vendors, force, correlation_id, requested_at, full_snapshot)"
            " VALUES ($1, $2, $3, 'QUEUED', 'queued', $4, $5, $6, $7, $8, $9)",
            run.run_id,
            run.tenant_id,
            run.run_type,
            run.config_version,
            run.vendors,
            run.force,
            run.correlation_id,
            run.requested_at,
            run.full,
        )

    async def record_sighting(self, run_id: str, event_id: str, stage: str, at: datetime) -> None:
        """One more sighting of a pipeline event of the run."""
        await self._conn.execute(
            "INSERT INTO run_stage_events (run_id, event_id, stage, first_seen_at, last_seen_at)"
            " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (run_id, event_id) DO UPDATE SET"
            " seen = run_stage_events.seen + 1, last_seen_at = EXCLUDED.last_seen_at",
            run_id,
            event_id,
            stage,
            at,
        )

    async def touch(self, run_id: str, at: datetime) -> None:
        """The run moved at ``at`` (the stuck-run sweep measures from the last move)."""
        await self._conn.execute(
            "UPDATE runs SET progress_at = GREATEST(COALESCE(progress_at, $2), $2)"
            " WHERE run_id = $1",
            run_id,
            at,
        )

    async def lock_stuck(self, run_id: str, cutoff: datetime) -> Progress | None:
        """The run's progress, locked, if it is under way and has not moved since ``cutoff``."""
        row = await self._conn.fetchrow(
            "SELECT * FROM runs WHERE run_id = $1 AND status IN ('QUEUED', 'RUNNING')"
            " AND published_at IS NOT NULL AND COALESCE(progress_at, published_at) < $2"
            " FOR UPDATE",
            run_id,
            cutoff,
        )
        return None if row is None else _progress(row)

    async def lock_progress(self, tenant_id: str, run_id: str) -> Progress | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM runs WHERE run_id = $1 AND tenant_id = $2 FOR UPDATE", run_id, tenant_id
        )
        return None if row is None else _progress(row)

    async def save_progress(self, run_id: str, progress: Progress) -> None:
        error = progress.error
        await self._conn.execute(
            "UPDATE runs SET status = $2, stage = $3, started_at = $4, finished_at = $5,"
            " error_code = $6, error_message = $7, error_report_key = $8 WHERE run_id = $1",
            run_id,
            progress.status,
            progress.stage,
            progress.started_at,
            progress.finished_at,
            None if error is None else error.code,
            None if error is None else error.message,
            None if error is None else error.report_key,
        )

    async def save_counts(self, run_id: str, merged_rows: int, skus_left_out: int) -> None:
        await self._conn.execute(
            "UPDATE runs SET merged_rows = $2, skus_left_out = $3 WHERE run_id = $1",
            run_id,
            merged_rows,
            skus_left_out,
        )

    async def add_vendor(self, run_id: str, vendor_id: str, status: str) -> None:
        """A vendor joins the run (first news wins: a late duplicate changes nothing)."""
        await self._conn.execute(
            "INSERT INTO run_vendors (run_id, vendor_id, status) VALUES ($1, $2, $3)"
            " ON CONFLICT (run_id, vendor_id) DO NOTHING",
            run_id,
            vendor_id,
            status,
        )

    async def save_vendor(
        self, run_id: str, vendor_id: str, counts: VendorCounts, status: str | None
    ) -> None:
        """A vendor's counts (and status, when the event states one)."""
        await self._conn.execute(
            "INSERT INTO run_vendors (run_id, vendor_id, status, rows, accepted, rejected,"
            " duplicates) VALUES ($1, $2, COALESCE($3, 'ok'), $4, $5, $6, $7)"
            " ON CONFLICT (run_id, vendor_id) DO UPDATE SET"
            " status = COALESCE($3, run_vendors.status), rows = $4, accepted = $5,"
            " rejected = $6, duplicates = $7",
            run_id,
            vendor_id,
            status,
            counts.rows,
            counts.accepted,
            counts.rejected,
            counts.duplicates,
        )


class RunsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[RunsUnit]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield RunsUnit(conn)

    async def get(self, run_id: str) -> RunView | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM runs WHERE run_id = $1", run_id)
            if row is None:
                return None
            vendor_rows = await conn.fetch(
                "SELECT * FROM run_vendors WHERE run_id = $1 ORDER BY vendor_id", run_id
            )
            seen = await conn.fetch(
                "SELECT * FROM run_stage_events WHERE run_id = $1 ORDER BY first_seen_at", run_id
            )
        vendors = {
            r["vendor_id"]: VendorResult(
                r["status"], r["rows"], r["accepted"], r["rejected"], r["duplicates"]
            )
            for r in vendor_rows
        }
        return _run(row, vendors, [_sighting(r) for r in seen])

    async def page(
        self, tenant_id: str, status: str | None, limit: int, after: Cursor | None
    ) -> list[RunView]:
        """Newest first; ``limit`` rows after the cursor position."""
        rows = await self._pool.fetch(
            "SELECT * FROM runs WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)"
            " AND ($3::timestamptz IS NULL OR (requested_at, run_id) < ($3, $4))"
            " ORDER BY requested_at DESC, run_id DESC LIMIT $5",
            tenant_id,
            status,
            *after_params(after),
            limit,
        )
        seen = await self._pool.fetch(
            "SELECT * FROM run_stage_events WHERE run_id = ANY($1) ORDER BY first_seen_at",
            [row["run_id"] for row in rows],
        )
        by_run: dict[str, list[Sighting]] = {}
        for found in seen:
            by_run.setdefault(found["run_id"], []).append(_sighting(found))
        return [_run(row, sightings=by_run.get(row["run_id"])) for row in rows]

    async def dispatch(
        self, tenant_id: str, cap: int, announce: Callable[[RunView], Event]
    ) -> list[RunView]:
        """Dispatch the tenant's waiting runs while fewer than ``cap`` are under way: each is
        marked dispatched and its event (``announce(run)``) written to the outbox, in one
        transaction; the tenant row lock keeps replicas from exceeding the cap. The runs
        dispatched, in order (the caller drains the outbox after this commit)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM tenants WHERE tenant_id = $1 FOR UPDATE", tenant_id)
            active = await conn.fetchval(
                "SELECT count(*) FROM runs WHERE tenant_id = $1 AND published_at IS NOT NULL"
                " AND status IN ('QUEUED', 'RUNNING')",
                tenant_id,
            )
            waiting = await conn.fetch(
                "SELECT * FROM runs WHERE tenant_id = $1 AND published_at IS NULL"
                " AND status = 'QUEUED' ORDER BY requested_at, run_id LIMIT $2",
                tenant_id,
                free_slots(int(active), cap),
            )
            dispatched = [_run(row) for row in waiting]
            for run in dispatched:
                await Outbox.add(conn, announce(run))
                await conn.execute(
                    "UPDATE runs SET published_at = now(), progress_at = now() WHERE run_id = $1",
                    run.run_id,
                )
        return dispatched

    async def tenants_waiting(self) -> list[str]:
        rows = await self._pool.fetch(
            "SELECT DISTINCT tenant_id FROM runs WHERE published_at IS NULL AND status = 'QUEUED'"
        )
        return [row["tenant_id"] for row in rows]

    async def stuck(self, cutoff: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant_id, run_id) of runs under way that have not moved since ``cutoff``."""
        rows = await self._pool.fetch(
            "SELECT tenant_id, run_id FROM runs WHERE status IN ('QUEUED', 'RUNNING')"
            " AND published_at IS NOT NULL AND COALESCE(progress_at, published_at) < $1"
            " ORDER BY progress_at LIMIT $2",
            cutoff,
            limit,
        )
        return [(row["tenant_id"], row["run_id"]) for row in rows]
