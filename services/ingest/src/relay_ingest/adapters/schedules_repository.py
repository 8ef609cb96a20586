"""Postgres adapter (schema ``ingest``): tenants' run schedules and the scheduled runs started.

A scheduled run starts in one transaction: its row is claimed with ``FOR UPDATE SKIP LOCKED``
while still due at the same cron time (replicas take different rows, none waits), the (tenant,
due time) is recorded once (primary key) with why it started, its ``run.requested`` is written
to the outbox, and the row's ``next_due_at`` moves to the next cron time after now (times
missed while no replica ran start one run, not a burst).

:meth:`SchedulesRepository.start_due` starts, in batches, what needs no look at the feeds
(no ``wait_for_vendors``); :meth:`waiting` lists the due times that wait for vendors,
:meth:`start` starts one of them (its vendors are fresh, or its wait ran out), and
:meth:`still_waiting` records who is still missing (the wait itself is the row staying due).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay_ingest.domain.schedules import (
    DueSchedule,
    ScheduleSetting,
    StartReason,
    scheduled_run,
)
from relay_shared.outbox import Outbox
from relay_shared.tenant_config import next_run_after

BATCH = 100


def _due(row: asyncpg.Record) -> DueSchedule:
    return DueSchedule(
        tenant_id=row["tenant_id"],
        config_version=row["config_version"],
        due_at=row["next_due_at"],
        wait_for_vendors=tuple(row["wait_for_vendors"]),
        max_wait_min=row["max_wait_min"],
        waiting_for=None if row["waiting_for"] is None else tuple(row["waiting_for"]),
    )


class SchedulesRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    async def set_schedule(self, setting: ScheduleSetting, now: datetime) -> None:
        """The tenant's schedule as of its config version (a later version only); no cron:
        the tenant has none any more. A changed cron or zone is due next at its next time; a
        time already due (perhaps waiting) keeps being due, under the new wait."""
        tenant_id, config_version = setting.tenant_id, setting.config_version
        cron, timezone = setting.cron, setting.timezone
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT config_version, cron, timezone FROM run_schedules WHERE tenant_id = $1"
                " FOR UPDATE",
                tenant_id,
            )
            if row is not None and row["config_version"] >= config_version:
                return
            if cron is None:
                await conn.execute("DELETE FROM run_schedules WHERE tenant_id = $1", tenant_id)
                return
            unchanged = row is not None and (row["cron"], row["timezone"]) == (cron, timezone)
            await conn.execute(
                "INSERT INTO run_schedules (tenant_id, config_version, cron, timezone,"
                " next_due_at, wait_for_vendors, max_wait_min) VALUES ($1, $2, $3, $4, $5, $7,"
                " $8) ON CONFLICT (tenant_id) DO UPDATE SET"
                " config_version = EXCLUDED.config_version, cron = EXCLUDED.cron,"
                " timezone = EXCLUDED.timezone, next_due_at = CASE WHEN $6"
                " THEN run_schedules.next_due_at ELSE EXCLUDED.next_due_at END,"
                " wait_for_vendors = EXCLUDED.wait_for_vendors,"
                " max_wait_min = EXCLUDED.max_wait_min",
                tenant_id,
                config_version,
                cron,
                timezone,
                next_run_after(cron, timezone, now),
                unchanged,
                list(setting.wait_for_vendors),
                setting.max_wait_min,
            )

    async def start_due(self, now: datetime) -> list[str]:
        """Start the runs due at ``now`` that wait for no vendor; the run ids this call
        started."""
        started: list[str] = []
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM run_schedules WHERE next_due_at <= $1"
                " AND cardinality(wait_for_vendors) = 0"
                " ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                BATCH,
            )
            for row in rows:
                run_id = await self._start(conn, row, now, "cron", [])
                if run_id is not None:
                    started.append(run_id)
        return started

    async def waiting(self, now: datetime) -> list[DueSchedule]:
        """The due cron times that wait for vendors (their wait may have run out), those
        looked at least recently first (so more than a batch of waiting tenants take turns)."""
        rows = await self._pool.fetch(
            "SELECT * FROM run_schedules WHERE next_due_at <= $1"
            " AND cardinality(wait_for_vendors) > 0"
            " ORDER BY checked_at NULLS FIRST, next_due_at LIMIT $2",
            now,
            BATCH,
        )
        return [_due(row) for row in rows]

    async def start(
        self, due: DueSchedule, now: datetime, reason: StartReason, missing: Sequence[str]
    ) -> str | None:
        """Start the run of ``due`` now (None: another replica is at it or has started it)."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM run_schedules WHERE tenant_id = $1 AND next_due_at = $2"
                " FOR UPDATE SKIP LOCKED",
                due.tenant_id,
                due.due_at,
            )
            if row is None:
                return None
            return await self._start(conn, row, now, reason, missing)

    async def still_waiting(self, due: DueSchedule, missing: Sequence[str], now: datetime) -> None:
        """Record which listed vendors still have no fresh feed (while ``due`` is due)."""
        await self._pool.execute(
            "UPDATE run_schedules SET waiting_for = $3, checked_at = $4"
            " WHERE tenant_id = $1 AND next_due_at = $2",
            due.tenant_id,
            due.due_at,
            list(missing),
            now,
        )

    @staticmethod
    async def _start(
        conn: PoolConnectionProxy[asyncpg.Record],
        row: asyncpg.Record,
        now: datetime,
        reason: StartReason,
        missing: Sequence[str],
    ) -> str | None:
        """Record the run of the claimed ``row``'s due time and write its event (once), and
        move the row to its next cron time."""
        due_at = row["next_due_at"]
        event = scheduled_run(
            row["tenant_id"], row["config_version"], due_at, due_at if reason == "cron" else now
        )
        inserted = await conn.fetchval(
            "INSERT INTO scheduled_runs (tenant_id, due_at, run_id, started_by, missing_vendors)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
            row["tenant_id"],
            due_at,
            event.run_id,
            reason,
            list(missing),
        )
        if inserted:
            await Outbox.add(conn, event)
        await conn.execute(
            "UPDATE run_schedules SET next_due_at = $2, waiting_for = NULL, checked_at = NULL"
            " WHERE tenant_id = $1",
            row["tenant_id"],
            next_run_after(row["cron"], row["timezone"], max(now, due_at)),
        )
        return event.run_id if inserted else None

    async def started(self, tenant_id: str) -> list[tuple[datetime, str]]:
        rows = await self._pool.fetch(
            "SELECT due_at, run_id FROM scheduled_runs WHERE tenant_id = $1 ORDER BY due_at",
            tenant_id,
        )
        return [(r["due_at"], r["run_id"]) for r in rows]
