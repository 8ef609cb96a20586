"""Postgres adapter: the feeds pinned under each run (schema ``ingest``)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from relay_ingest.domain.pinning import PinnedFeed


class RunFeedsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def pin(
        self, tenant_id: str, run_id: str, feeds: Sequence[PinnedFeed]
    ) -> list[PinnedFeed]:
        """Record the run's feeds unless already pinned; return what is pinned (the first
        decision wins, so a redelivery cannot switch a run to a newer upload)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO run_feeds (tenant_id, run_id, vendor_id, key, size)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id, vendor_id) DO NOTHING",
                [(tenant_id, run_id, f.vendor_id, f.key, f.size) for f in feeds],
            )
            rows = await conn.fetch(
                "SELECT vendor_id, key, size, announced_at IS NOT NULL AS announced"
                " FROM run_feeds WHERE run_id = $1",
                run_id,
            )
        pinned = {
            r["vendor_id"]: PinnedFeed(r["vendor_id"], r["key"], r["size"], r["announced"])
            for r in rows
        }
        return [pinned[f.vendor_id] for f in feeds if f.vendor_id in pinned]

    async def mark_announced(self, run_id: str, vendor_id: str) -> None:
        """The feed's feed.received is stored on the bus (called after the publish ack)."""
        await self._pool.execute(
            "UPDATE run_feeds SET announced_at = now()"
            " WHERE run_id = $1 AND vendor_id = $2 AND announced_at IS NULL",
            run_id,
            vendor_id,
        )
