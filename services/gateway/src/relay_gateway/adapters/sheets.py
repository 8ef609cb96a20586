"""The sheets read model (schema ``gateway``), fed by ``sheet.synced``: each spreadsheet the
sheets service writes for a tenant, its sync state and any permanent problem with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from relay_shared.events import SheetSynced


@dataclass(frozen=True)
class SheetView:
    channel: str | None
    title: str
    backend: str
    file_id: str | None
    state: str
    problem_code: str | None
    problem: str | None
    synced_at: datetime | None
    reported_at: datetime


class SheetsNotOpenError(RuntimeError):
    """An event arrived before the gateway's resources opened (it is redelivered)."""


class SheetsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, event: SheetSynced) -> None:
        """Upsert the spreadsheet's row; only a later report (higher ``seq``) changes it."""
        await self._pool.execute(
            "INSERT INTO tenant_sheets (tenant_id, channel, title, backend, file_id, state,"
            " problem_code, problem, synced_at, seq, reported_at, event_id) VALUES ($1, $2, $3,"
            " $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (tenant_id, channel, title,"
            " backend) DO UPDATE SET file_id = EXCLUDED.file_id, state = EXCLUDED.state,"
            " problem_code = EXCLUDED.problem_code, problem = EXCLUDED.problem,"
            " synced_at = EXCLUDED.synced_at, seq = EXCLUDED.seq,"
            " reported_at = EXCLUDED.reported_at, event_id = EXCLUDED.event_id"
            " WHERE tenant_sheets.seq < EXCLUDED.seq",
            event.tenant_id,
            event.channel or "",
            event.title,
            event.backend,
            event.file_id,
            event.state,
            event.problem_code,
            event.problem,
            event.synced_at,
            event.seq,
            event.occurred_at,
            event.event_id,
        )

    async def of_tenant(self, tenant_id: str) -> list[SheetView]:
        rows = await self._pool.fetch(
            "SELECT * FROM tenant_sheets WHERE tenant_id = $1 ORDER BY channel, title, backend",
            tenant_id,
        )
        return [
            SheetView(
                channel=row["channel"] or None,
                title=row["title"],
                backend=row["backend"],
                file_id=row["file_id"],
                state=row["state"],
                problem_code=row["problem_code"],
                problem=row["problem"],
                synced_at=row["synced_at"],
                reported_at=row["reported_at"],
            )
            for row in rows
        ]


class TenantSheets:
    """The repository once the gateway's resources are open (the consumer and the route are
    wired before they are)."""

    def __init__(self) -> None:
        self._repository: SheetsRepository | None = None

    def open(self, pool: asyncpg.Pool) -> None:
        self._repository = SheetsRepository(pool)

    @property
    def repository(self) -> SheetsRepository:
        if self._repository is None:
            raise SheetsNotOpenError("the sheets read model is not open")
        return self._repository

    async def record(self, event: SheetSynced) -> None:
        await self.repository.record(event)
