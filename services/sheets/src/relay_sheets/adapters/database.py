"""Postgres adapter (schema ``sheets``): tenants, folders, spreadsheets and their sync state,
folder scans and uploads, processed events, and the outbox.

Sync reports (``sheet.synced``) are written to the outbox in the transaction of the state change:
whenever a spreadsheet's state changes (ok ↔ failed, or its first write), and otherwise at
most every ``report_interval_s`` of successful writes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg

from relay_shared.events import SheetSynced
from relay_shared.outbox import Outbox
from relay_sheets.domain.layout import SpreadsheetRef

ROOT = ""  # the channel column of a tenant's root folder and spreadsheets


@dataclass(frozen=True)
class TenantRow:
    tenant_id: str
    name: str
    channels: list[str]
    backend: str
    shared_drive_id: str | None
    share_with: list[str]
    config_version: int


@dataclass(frozen=True)
class SheetRow:
    file_id: str | None
    state: str
    problem_code: str | None
    problem: str | None


class SheetName(Protocol):
    """A spreadsheet by name: one Relay writes (a ``SpreadsheetRef``) or one the merchant
    uploaded (:class:`UploadedSheet`)."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def channel(self) -> str | None: ...

    @property
    def title(self) -> str: ...


@dataclass(frozen=True)
class UploadedSheet:
    tenant_id: str
    channel: str | None
    title: str


def channel_key(ref: SheetName) -> str:
    return ref.channel if ref.channel is not None else ROOT


class SheetsDatabase:
    def __init__(self, pool: asyncpg.Pool, *, report_interval_s: float = 30.0) -> None:
        self.pool = pool
        self._report_interval_s = report_interval_s

    @asynccontextmanager
    async def locked(self, key: str) -> AsyncIterator[None]:
        """A session advisory lock on ``key`` (across processes and nodes) for the block."""
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)

    async def claim_event(self, event_id: str) -> bool:
        async with self.pool.acquire() as conn:
            status = await conn.execute(
                "INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING",
                event_id,
            )
        return bool(status.endswith(" 1"))

    # -- tenants ---------------------------------------------------------------------------

    async def save_tenant(self, tenant_id: str, name: str, channels: Sequence[str]) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO tenants (tenant_id, name, channels) VALUES ($1, $2, $3)"
                " ON CONFLICT (tenant_id) DO UPDATE SET name = $2,"
                " channels = ARRAY(SELECT DISTINCT unnest(tenants.channels || $3) ORDER BY 1),"
                " updated_at = now()",
                tenant_id,
                name,
                sorted(set(channels)),
            )

    async def save_backend(
        self,
        tenant_id: str,
        version: int,
        backend: str,
        drive_id: str | None,
        share_with: Sequence[str],
    ) -> None:
        """The sheets section of config ``version``; an older version changes nothing."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO tenants"
                " (tenant_id, backend, shared_drive_id, share_with, config_version)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET backend = $2,"
                " shared_drive_id = $3, share_with = $4, config_version = $5, updated_at = now()"
                " WHERE tenants.config_version <= $5",
                tenant_id,
                backend,
                drive_id,
                list(share_with),
                version,
            )

    async def tenant(self, tenant_id: str) -> TenantRow | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM tenants WHERE tenant_id = $1", tenant_id)
        if row is None:
            return None
        return TenantRow(
            row["tenant_id"],
            row["name"],
            list(row["channels"]),
            row["backend"],
            row["shared_drive_id"],
            list(row["share_with"]),
            row["config_version"],
        )

    # -- folders and spreadsheets ----------------------------------------------------------

    async def folder(self, tenant_id: str, channel: str, backend: str) -> str | None:
        async with self.pool.acquire() as conn:
            found = await conn.fetchval(
                "SELECT drive_id FROM folders"
                " WHERE tenant_id = $1 AND channel = $2 AND backend = $3",
                tenant_id,
                channel,
                backend,
            )
        return None if found is None else str(found)

    async def save_folder(
        self,
        tenant_id: str,
        channel: str,
        backend: str,
        drive_id: str,
        name: str,
        shared: Sequence[str],
    ) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO folders (tenant_id, channel, backend, drive_id, name, shared_with)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                tenant_id,
                channel,
                backend,
                drive_id,
                name,
                list(shared),
            )

    async def folder_sharing(
        self, tenant_id: str, backend: str
    ) -> dict[str, tuple[str, list[str]]]:
        """channel → (folder id, the addresses Relay granted) of the tenant's folders."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT channel, drive_id, shared_with FROM folders"
                " WHERE tenant_id = $1 AND backend = $2 ORDER BY channel DESC",
                tenant_id,
                backend,
            )
        return {r["channel"]: (r["drive_id"], list(r["shared_with"])) for r in rows}

    async def save_sharing(
        self, tenant_id: str, channel: str, backend: str, shared: Sequence[str]
    ) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE folders SET shared_with = $4"
                " WHERE tenant_id = $1 AND channel = $2 AND backend = $3",
                tenant_id,
                channel,
                backend,
                list(shared),
            )

    async def folders(self, backend: str) -> list[tuple[str, str, str]]:
        """(tenant, channel, folder id) of every channel folder of ``backend``."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT tenant_id, channel, drive_id FROM folders"
                " WHERE backend = $1 AND channel <> '' ORDER BY tenant_id, channel",
                backend,
            )
        return [(r["tenant_id"], r["channel"], r["drive_id"]) for r in rows]

    async def spreadsheet(self, ref: SpreadsheetRef, backend: str) -> SheetRow | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT file_id, state, problem_code, problem FROM spreadsheets"
                " WHERE tenant_id = $1 AND channel = $2 AND title = $3 AND backend = $4",
                ref.tenant_id,
                channel_key(ref),
                ref.title,
                backend,
            )
        if row is None:
            return None
        return SheetRow(row["file_id"], row["state"], row["problem_code"], row["problem"])

    async def save_file_id(self, ref: SpreadsheetRef, backend: str, file_id: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO spreadsheets (tenant_id, channel, title, backend, file_id)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, channel, title, backend)"
                " DO UPDATE SET file_id = $5, updated_at = now()",
                ref.tenant_id,
                channel_key(ref),
                ref.title,
                backend,
                file_id,
            )

    async def record(
        self,
        ref: SheetName,
        backend: str,
        *,
        file_id: str | None,
        problem: tuple[str, str] | None = None,
    ) -> bool:
        """Record a write (``problem`` None) or a permanent problem (code, reason); whether a
        ``sheet.synced`` report was written to the outbox."""
        now = datetime.now(UTC)
        state = "ok" if problem is None else "failed"
        async with self.pool.acquire() as conn, conn.transaction():
            before = await conn.fetchrow(
                "INSERT INTO spreadsheets (tenant_id, channel, title, backend, file_id)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, channel, title, backend)"
                " DO UPDATE SET updated_at = now()"
                " RETURNING state, reported_seq, reported_at, writes",
                ref.tenant_id,
                channel_key(ref),
                ref.title,
                backend,
                file_id,
            )
            if before is None:
                raise RuntimeError("INSERT ... RETURNING returned no row")
            report = _should_report(before, state, now, self._report_interval_s)
            seq = before["reported_seq"] + int(report)
            row = await conn.fetchrow(
                "UPDATE spreadsheets SET state = $5, problem_code = $6, problem = $7,"
                " synced_at = CASE WHEN $5 = 'ok' THEN $8 ELSE synced_at END,"
                " writes = writes + CASE WHEN $5 = 'ok' THEN 1 ELSE 0 END,"
                " reported_seq = $9, reported_at = CASE WHEN $10 THEN $8 ELSE reported_at END,"
                " file_id = COALESCE($11, file_id)"
                " WHERE tenant_id = $1 AND channel = $2 AND title = $3 AND backend = $4"
                " RETURNING file_id, synced_at",
                ref.tenant_id,
                channel_key(ref),
                ref.title,
                backend,
                state,
                None if problem is None else problem[0],
                None if problem is None else problem[1][:2000],
                now,
                seq,
                report,
                file_id,
            )
            if report:
                await Outbox.add(conn, _report(ref, backend, state, problem, row, seq, now))
        return report

    async def clear_failures(self, tenant_id: str) -> None:
        """Try the tenant's failed spreadsheets again (reported at their next write)."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE spreadsheets SET state = 'ok', problem_code = NULL, problem = NULL,"
                " reported_at = NULL, updated_at = now() WHERE tenant_id = $1 AND state = 'failed'",
                tenant_id,
            )

    # -- uploads ---------------------------------------------------------------------------

    async def last_scan(self, tenant_id: str, channel: str, backend: str) -> str | None:
        async with self.pool.acquire() as conn:
            found = await conn.fetchval(
                "SELECT last_scan_at FROM folder_scans WHERE tenant_id = $1 AND channel = $2"
                " AND backend = $3",
                tenant_id,
                channel,
                backend,
            )
        return None if found is None else str(found)

    async def save_scan(self, tenant_id: str, channel: str, backend: str, at: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO folder_scans VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, channel,"
                " backend) DO UPDATE SET last_scan_at = GREATEST(folder_scans.last_scan_at, $4)",
                tenant_id,
                channel,
                backend,
                at,
            )

    async def save_upload(
        self, conn: Any, tenant_id: str, channel: str, upload: dict[str, Any]
    ) -> None:
        await conn.execute(
            "INSERT INTO uploads (tenant_id, channel, file_id, name, modified_at, status, problems,"
            " listings_key, rows) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (tenant_id, channel, file_id) DO UPDATE SET name = $4, modified_at = $5,"
            " status = $6, problems = $7, listings_key = $8, rows = $9, read_at = now()",
            tenant_id,
            channel,
            upload["file_id"],
            upload["name"],
            upload["modified_at"],
            upload["status"],
            json.dumps(upload.get("problems", [])),
            upload.get("listings_key"),
            upload.get("rows"),
        )

    async def upload_versions(self, tenant_id: str, channel: str) -> dict[str, str]:
        """file id → the ``modifiedTime`` last read, of the channel folder's uploads."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT file_id, modified_at FROM uploads WHERE tenant_id = $1 AND channel = $2",
                tenant_id,
                channel,
            )
        return {r["file_id"]: r["modified_at"] for r in rows}

    async def uploads(self, tenant_id: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT channel, file_id, name, modified_at, status, problems, listings_key, rows"
                " FROM uploads WHERE tenant_id = $1 ORDER BY channel, name",
                tenant_id,
            )
        return [{**dict(r), "problems": json.loads(r["problems"])} for r in rows]


def _should_report(before: Any, state: str, now: datetime, interval_s: float) -> bool:
    if before["reported_seq"] == 0 or before["state"] != state:
        return True
    last = before["reported_at"]
    return last is None or (now - last).total_seconds() >= interval_s


def _report(
    ref: SheetName,
    backend: str,
    state: str,
    problem: tuple[str, str] | None,
    row: Any,
    seq: int,
    now: datetime,
) -> SheetSynced:
    where = ref.channel or "root"
    return SheetSynced(
        event_id=f"sheet.synced:{ref.tenant_id}:{where}:{ref.title}:{backend}:{seq}",
        occurred_at=now,
        tenant_id=ref.tenant_id,
        correlation_id=f"sheets-{ref.tenant_id}",
        channel=ref.channel,
        title=ref.title,
        backend="google" if backend == "google" else "xlsx",
        file_id=row["file_id"],
        state="ok" if state == "ok" else "failed",
        problem_code=None if problem is None else problem[0],
        problem=None if problem is None else problem[1][:2000],
        synced_at=row["synced_at"],
        seq=seq,
    )
