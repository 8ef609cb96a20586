"""Postgres adapter for run assembly (schema ``pricing``)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from relay_pricing.domain.assembly import VendorResult
from relay_shared.events import RowsNormalized


class AssemblyRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, event: RowsNormalized) -> None:
        """Record a vendor's result once; a redelivered event changes nothing."""
        await self._pool.execute(
            "INSERT INTO vendor_results (scope_id, vendor_id, tenant_id, run_id, config_version,"
            " status, normalized_key, findings_key, run_vendors)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (scope_id, vendor_id) DO NOTHING",
            event.scope_id,
            event.vendor_id,
            event.tenant_id,
            event.run_id,
            event.config_version,
            "failed" if event.status == "skipped" else event.status,
            event.normalized_key,
            event.findings_key,
            event.run_vendors,
        )

    async def received(self, scope_id: str) -> dict[str, VendorResult]:
        rows = await self._pool.fetch(
            "SELECT vendor_id, status, normalized_key, findings_key FROM vendor_results"
            " WHERE scope_id = $1",
            scope_id,
        )
        return {
            r["vendor_id"]: VendorResult(
                r["vendor_id"], r["status"], r["normalized_key"], r["findings_key"], True
            )
            for r in rows
        }

    async def latest(self, tenant_id: str) -> dict[str, VendorResult]:
        rows = await self._pool.fetch(
            "SELECT vendor_id, normalized_key, findings_key FROM latest_feeds WHERE tenant_id = $1",
            tenant_id,
        )
        return {
            r["vendor_id"]: VendorResult(
                r["vendor_id"], "ok", r["normalized_key"], r["findings_key"], False
            )
            for r in rows
        }

    async def record_merge(
        self,
        tenant_id: str,
        scope_id: str,
        status: str,
        merged_rows: int,
        promoted: Sequence[VendorResult],
    ) -> None:
        """Record the merge's outcome and, for a successful one, make this run's good feeds
        the vendors' latest (one transaction; idempotent)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO merges (scope_id, tenant_id, status, merged_rows)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (scope_id) DO NOTHING",
                scope_id,
                tenant_id,
                status,
                merged_rows,
            )
            await conn.executemany(
                "INSERT INTO latest_feeds (tenant_id, vendor_id, scope_id, normalized_key,"
                " findings_key) VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (tenant_id, vendor_id) DO UPDATE SET scope_id = EXCLUDED.scope_id,"
                " normalized_key = EXCLUDED.normalized_key,"
                " findings_key = EXCLUDED.findings_key, updated_at = now()",
                [
                    (tenant_id, r.vendor_id, scope_id, r.normalized_key, r.findings_key)
                    for r in promoted
                ],
            )
