"""Postgres adapter (schema ``ingest``): tenants' run schedules and the scheduled runs started.

:meth:`SchedulesRepository.start_due` is the one place a scheduled run starts: the due rows
are claimed with ``FOR UPDATE SKIP LOCKED`` (replicas take different rows, none waits), each
(tenant, due time) is recorded once (primary key) and its ``run.requested`` is written to the
outbox in that transaction, and the row's ``next_due_at`` moves to the next cron time after
now (times missed while no replica ran start one run, not a burst).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from relay_ingest.domain.schedules import scheduled_run
from relay_shared.outbox import Outbox
from relay_shared.tenant_config import next_run_after

BATCH = 100


class SchedulesRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    async def set_schedule(
        self, tenant_id: str, config_version: int, cron: str | None, timezone: str, now: datetime
    ) -> None:
        """The tenant's schedule as of ``config_version`` (a later version only); None: the
        tenant has none any more. A changed cron or zone is due next at its next time."""
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
                " next_due_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET"
                " config_version = EXCLUDED.config_version, cron = EXCLUDED.cron,"
                " timezone = EXCLUDED.timezone, next_due_at = CASE WHEN $6"
                " THEN run_schedules.next_due_at ELSE EXCLUDED.next_due_at END",
                tenant_id,
                config_version,
                cron,
                timezone,
                next_run_after(cron, timezone, now),
                unchanged,
            )

    async def start_due(self, now: datetime) -> list[str]:
        """Start the runs due at ``now``; the run ids this call started."""
        started: list[str] = []
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT tenant_id, config_version, cron, timezone, next_due_at"
                " FROM run_schedules WHERE next_due_at <= $1 ORDER BY next_due_at"
                " LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                BATCH,
            )
            for row in rows:
                event = scheduled_run(row["tenant_id"], row["config_version"], row["next_due_at"])
                inserted = await conn.fetchval(
                    "INSERT INTO scheduled_runs (tenant_id, due_at, run_id) VALUES ($1, $2, $3)"
                    " ON CONFLICT DO NOTHING RETURNING true",
                    row["tenant_id"],
                    row["next_due_at"],
                    event.run_id,
                )
                if inserted:
                    await Outbox.add(conn, event)
                    started.append(event.run_id)
                await conn.execute(
                    "UPDATE run_schedules SET next_due_at = $2 WHERE tenant_id = $1",
                    row["tenant_id"],
                    next_run_after(row["cron"], row["timezone"], max(now, row["next_due_at"])),
                )
        return started

    async def started(self, tenant_id: str) -> list[tuple[datetime, str]]:
        rows = await self._pool.fetch(
            "SELECT due_at, run_id FROM scheduled_runs WHERE tenant_id = $1 ORDER BY due_at",
            tenant_id,
        )
        return [(r["due_at"], r["run_id"]) for r in rows]
