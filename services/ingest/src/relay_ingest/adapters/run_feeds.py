"""Postgres adapter: the feeds pinned under each run (schema ``ingest``), and their events.

A run's pinning and the events announcing its feeds are written in one :class:`RunFeedsUnit`
(one transaction); the events go into the schema's outbox (:mod:`relay_shared.outbox`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay_ingest.domain.pinning import PinnedFeed
from relay_shared.events import Event
from relay_shared.outbox import Outbox


class RunFeedsUnit:
    """One transaction on a run's pinned feeds and the outbox."""

    def __init__(self, conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        self._conn = conn

    async def pin(
        self, tenant_id: str, run_id: str, feeds: Sequence[PinnedFeed], *, preview: bool = False
    ) -> list[PinnedFeed]:
        """Record the run's feeds unless already pinned; return what is pinned (the first
        decision wins, so a redelivery cannot switch a run to a newer upload). A config
        preview's pins are marked: they never make a feed look used."""
        await self._conn.executemany(
            "INSERT INTO run_feeds (tenant_id, run_id, vendor_id, key, size, preview)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, vendor_id) DO NOTHING",
            [(tenant_id, run_id, f.vendor_id, f.key, f.size, preview) for f in feeds],
        )
        rows = await self._conn.fetch(
            "SELECT vendor_id, key, size FROM run_feeds WHERE run_id = $1", run_id
        )
        pinned = {r["vendor_id"]: PinnedFeed(r["vendor_id"], r["key"], r["size"]) for r in rows}
        return [pinned[f.vendor_id] for f in feeds if f.vendor_id in pinned]

    async def announce(self, events: Sequence[Event]) -> None:
        """Write the events announcing the pinned feeds to the outbox (an event already
        written, by an earlier delivery, is not written again)."""
        await Outbox.add(self._conn, *events)


class RunFeedsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[RunFeedsUnit]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield RunFeedsUnit(conn)
