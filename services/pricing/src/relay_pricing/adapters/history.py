"""Postgres adapter of the change history (schema ``pricing``, tables ``run_feeds`` and
``sku_changes``): where each successful merge's full feed is, and the compact per-SKU price
and quantity changes, kept 400 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import polars as pl

from relay_shared.sku_history import HISTORY_COLUMNS, RETENTION_DAYS


@dataclass(frozen=True)
class PreviousMerge:
    """The tenant's latest successful merge before this one: where its full feed is (None for
    a merge recorded before the change history: its merged_inventory.csv) and how many delta
    runs followed the last full snapshot."""

    scope_id: str
    feed_key: str | None
    deltas_since_full: int


@dataclass(frozen=True)
class RecordedRun:
    tenant_id: str
    scope_id: str
    as_of: datetime
    feed_key: str
    snapshot: bool
    previous_scope: str | None


_PREVIOUS = """
SELECT m.scope_id, f.feed_key FROM merges m LEFT JOIN run_feeds f USING (scope_id)
WHERE m.tenant_id = $1 AND m.status = 'succeeded' AND m.scope_id <> $2
ORDER BY m.merged_at DESC, m.scope_id DESC LIMIT 1
"""
# Succeeded merges after the tenant's last full snapshot (a merge without a run_feeds row
# predates delta feeds: a full one).
_DELTAS_SINCE_FULL = """
WITH done AS (
    SELECT m.merged_at, COALESCE(f.snapshot, true) AS snapshot FROM merges m
    LEFT JOIN run_feeds f USING (scope_id)
    WHERE m.tenant_id = $1 AND m.status = 'succeeded' AND m.scope_id <> $2
)
SELECT count(*) FROM done
WHERE merged_at > COALESCE((SELECT max(merged_at) FROM done WHERE snapshot), '-infinity')
"""


class ChangeHistory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def previous(self, tenant_id: str, scope_id: str) -> PreviousMerge | None:
        """The tenant's latest succeeded merge other than ``scope_id``."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(_PREVIOUS, tenant_id, scope_id)
            if row is None:
                return None
            deltas = await conn.fetchval(_DELTAS_SINCE_FULL, tenant_id, scope_id)
        return PreviousMerge(row["scope_id"], row["feed_key"], int(deltas))

    async def record(self, run: RecordedRun, history: pl.DataFrame) -> None:
        """Record the run's feed and its history rows (a replay writes the same rows), and
        purge the tenant's rows older than :data:`RETENTION_DAYS`, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO run_feeds (scope_id, tenant_id, feed_key, snapshot, previous_scope)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope_id) DO UPDATE SET"
                " feed_key = EXCLUDED.feed_key, snapshot = EXCLUDED.snapshot,"
                " previous_scope = EXCLUDED.previous_scope",
                run.scope_id,
                run.tenant_id,
                run.feed_key,
                run.snapshot,
                run.previous_scope,
            )
            await conn.execute(
                "DELETE FROM sku_changes WHERE tenant_id = $1 AND scope_id = $2",
                run.tenant_id,
                run.scope_id,
            )
            await conn.copy_records_to_table(
                "sku_changes",
                records=(
                    (run.tenant_id, row[0], run.scope_id, run.as_of, *row[1:])
                    for row in history.select(HISTORY_COLUMNS).iter_rows()
                ),
                columns=["tenant_id", "sku", "scope_id", "as_of", *HISTORY_COLUMNS[1:]],
            )
            await conn.execute(
                "DELETE FROM sku_changes WHERE tenant_id = $1"
                " AND as_of < now() - make_interval(days => $2)",
                run.tenant_id,
                RETENTION_DAYS,
            )

    async def of_sku(self, tenant_id: str, sku: str) -> list[asyncpg.Record]:
        """The SKU's rows, oldest first (for operators and tests; the API reads the
        gateway's copy)."""
        return await self._pool.fetch(
            "SELECT * FROM sku_changes WHERE tenant_id = $1 AND sku = $2 ORDER BY as_of, scope_id",
            tenant_id,
            sku,
        )
