"""Postgres adapter (schema ``ingest``): the watched tenants, the poll's resume keys, and the
inbound objects seen, each recorded once per (key, ETag) with its ``feed.received`` written to
the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay_ingest.domain.drops import Drop, Watch, drop_event_id, drop_feed_received, plain_etag
from relay_shared.outbox import Outbox


class DropsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    async def set_watch(
        self, tenant_id: str, config_version: int, vendors: Sequence[str], since: datetime
    ) -> None:
        """The tenant's watched vendors as of ``config_version`` (a later version only; an
        older one arriving late changes nothing). No vendor watched: the row goes. A vendor
        newly watched is watched from ``since`` on; the others keep their start."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT config_version FROM inbound_watches WHERE tenant_id = $1 FOR UPDATE",
                tenant_id,
            )
            if row is not None and row["config_version"] >= config_version:
                return
            if not vendors:
                await conn.execute("DELETE FROM inbound_watches WHERE tenant_id = $1", tenant_id)
                return
            await conn.execute(
                "INSERT INTO inbound_watches (tenant_id, config_version, vendors, watch_since)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET"
                " config_version = EXCLUDED.config_version, vendors = EXCLUDED.vendors",
                tenant_id,
                config_version,
                list(vendors),
                since,
            )

    async def watches(self) -> list[Watch]:
        rows = await self._pool.fetch(
            "SELECT tenant_id, config_version, vendors, watch_since, resume_after"
            " FROM inbound_watches ORDER BY polled_at NULLS FIRST, tenant_id"
        )
        return [
            Watch(
                r["tenant_id"],
                r["config_version"],
                tuple(r["vendors"]),
                r["watch_since"],
                r["resume_after"],
            )
            for r in rows
        ]

    async def watch(self, tenant_id: str) -> Watch | None:
        row = await self._pool.fetchrow(
            "SELECT tenant_id, config_version, vendors, watch_since, resume_after"
            " FROM inbound_watches WHERE tenant_id = $1",
            tenant_id,
        )
        if row is None:
            return None
        return Watch(
            row["tenant_id"],
            row["config_version"],
            tuple(row["vendors"]),
            row["watch_since"],
            row["resume_after"],
        )

    async def polled(self, tenant_id: str, resume_after: str | None) -> None:
        await self._pool.execute(
            "UPDATE inbound_watches SET resume_after = $2, polled_at = now() WHERE tenant_id = $1",
            tenant_id,
            resume_after,
        )

    async def record(self, watch: Watch, found: Sequence[Drop], source: str) -> int:
        """Record the drops not seen before and write each one's feed.received to the outbox
        (same transaction); returns how many were new. Replicas and both paths race safely:
        the primary key lets one insert win."""
        if not found:
            return 0
        async with self._pool.acquire() as conn, conn.transaction():
            return await record_drops(conn, watch.config_version, found, source)

    async def seen(self, tenant_id: str) -> list[tuple[str, str, str]]:
        """(key, ETag, source) of the tenant's objects seen, oldest first (for operators and
        tests)."""
        rows = await self._pool.fetch(
            "SELECT key, etag, source FROM inbound_objects WHERE tenant_id = $1"
            " ORDER BY seen_at, key",
            tenant_id,
        )
        return [(r["key"], r["etag"], r["source"]) for r in rows]


async def record_drops(
    conn: asyncpg.Connection | PoolConnectionProxy[asyncpg.Record],
    config_version: int,
    found: Sequence[Drop],
    source: str,
) -> int:
    """:meth:`DropsRepository.record` inside the caller's transaction (a vendor pull records
    its files with its own state)."""
    new = 0
    for drop in found:
        inserted = await conn.fetchval(
            "INSERT INTO inbound_objects (tenant_id, key, etag, vendor_id, size,"
            " last_modified, source, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (key, etag) DO NOTHING RETURNING true",
            drop.tenant_id,
            drop.object.key,
            plain_etag(drop.object.etag),
            drop.vendor_id,
            drop.object.size,
            drop.object.last_modified,
            source,
            drop_event_id(drop),
        )
        if inserted:
            new += 1
            await Outbox.add(conn, drop_feed_received(drop, config_version))
    return new
