"""Postgres adapter for run assembly (schema ``pricing``); a merge's event goes into the
schema's outbox (:mod:`relay_shared.outbox`) with its outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay_pricing.adapters.baseline_codec import decode_skus, encode_skus
from relay_pricing.domain.assembly import VendorHandoff
from relay_pricing.domain.drift import FeedBaseline
from relay_shared.events import OffersMerged, PreviewReady, RowsNormalized, RunFailed
from relay_shared.outbox import Outbox


@dataclass(frozen=True)
class MergeRecord:
    """A merge's outcome, the event that announces it, and what a success promotes."""

    tenant_id: str
    scope_id: str
    status: str
    merged_rows: int
    event: OffersMerged | RunFailed | PreviewReady
    promoted: Sequence[VendorHandoff]
    baselines: Mapping[str, FeedBaseline]


class AssemblyRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    async def record(self, event: RowsNormalized) -> None:
        """Record a vendor's result once; a redelivered event changes nothing."""
        await self._pool.execute(
            "INSERT INTO vendor_results (scope_id, vendor_id, tenant_id, run_id, config_version,"
            " status, normalized_key, findings_key, run_vendors, handoff_key)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
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
            event.handoff_key,
        )

    async def received(self, scope_id: str) -> dict[str, VendorHandoff]:
        rows = await self._pool.fetch(
            "SELECT vendor_id, status, normalized_key, findings_key, handoff_key"
            " FROM vendor_results WHERE scope_id = $1",
            scope_id,
        )
        return {
            r["vendor_id"]: VendorHandoff(
                r["vendor_id"],
                r["status"],
                r["normalized_key"],
                r["findings_key"],
                True,
                r["handoff_key"],
            )
            for r in rows
        }

    async def latest(self, tenant_id: str) -> dict[str, VendorHandoff]:
        rows = await self._pool.fetch(
            "SELECT vendor_id, normalized_key, findings_key, handoff_key FROM latest_feeds"
            " WHERE tenant_id = $1",
            tenant_id,
        )
        return {
            r["vendor_id"]: VendorHandoff(
                r["vendor_id"],
                "ok",
                r["normalized_key"],
                r["findings_key"],
                False,
                r["handoff_key"],
            )
            for r in rows
        }

    async def baselines(self, tenant_id: str) -> dict[str, FeedBaseline]:
        """Each vendor's last good feed, as the drift guard remembers it."""
        rows = await self._pool.fetch(
            "SELECT vendor_id, accepted, skus, in_stock_skus, skus_parquet FROM feed_baselines"
            " WHERE tenant_id = $1",
            tenant_id,
        )
        return {r["vendor_id"]: _baseline(r) for r in rows}

    async def merged(self, scope_id: str) -> bool:
        """Whether the scope's merge is recorded (its event is then in the outbox)."""
        found = await self._pool.fetchval("SELECT true FROM merges WHERE scope_id = $1", scope_id)
        return found is not None

    async def record_merge(self, merge: MergeRecord) -> bool:
        """Record the merge's outcome, write the event announcing it to the outbox and, for a
        successful one, make this run's good feeds the vendors' latest (one transaction).
        The first record wins: a concurrent or replayed merge records, writes and promotes
        nothing (False)."""
        blobs = await asyncio.to_thread(_baseline_blobs, merge)  # polars, off the event loop
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "INSERT INTO merges (scope_id, tenant_id, status, merged_rows, announced_at)"
                " VALUES ($1, $2, $3, $4, now()) ON CONFLICT (scope_id) DO NOTHING",
                merge.scope_id,
                merge.tenant_id,
                merge.status,
                merge.merged_rows,
            )
            if not status.endswith(" 1"):
                return False
            await Outbox.add(conn, merge.event)
            await _promote(conn, merge, blobs)
        return True


def _baseline_blobs(merge: MergeRecord) -> dict[str, bytes]:
    """The stored form of each promoted feed's drift baseline (:mod:`.baseline_codec`)."""
    return {
        r.vendor_id: encode_skus(merge.baselines[r.vendor_id])
        for r in merge.promoted
        if r.vendor_id in merge.baselines
    }


async def _promote(
    conn: PoolConnectionProxy[asyncpg.Record], merge: MergeRecord, blobs: Mapping[str, bytes]
) -> None:
    """Make the merge's good feeds (and their drift baselines, ``blobs``) the vendors'
    latest."""
    await conn.executemany(
        "INSERT INTO latest_feeds (tenant_id, vendor_id, scope_id, normalized_key,"
        " findings_key, handoff_key) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (tenant_id, vendor_id) DO UPDATE SET scope_id = EXCLUDED.scope_id,"
        " normalized_key = EXCLUDED.normalized_key, findings_key = EXCLUDED.findings_key,"
        " handoff_key = EXCLUDED.handoff_key, updated_at = now()",
        [
            (
                merge.tenant_id,
                r.vendor_id,
                merge.scope_id,
                r.normalized_key,
                r.findings_key,
                r.handoff_key,
            )
            for r in merge.promoted
        ],
    )
    await conn.executemany(
        "INSERT INTO feed_baselines (tenant_id, vendor_id, scope_id, accepted, skus,"
        " in_stock_skus, skus_parquet) VALUES ($1, $2, $3, $4, NULL, NULL, $5)"
        " ON CONFLICT (tenant_id, vendor_id) DO UPDATE SET scope_id = EXCLUDED.scope_id,"
        " accepted = EXCLUDED.accepted, skus = NULL, in_stock_skus = NULL,"
        " skus_parquet = EXCLUDED.skus_parquet, updated_at = now()",
        [
            (
                merge.tenant_id,
                r.vendor_id,
                merge.scope_id,
                merge.baselines[r.vendor_id].accepted,
                blobs[r.vendor_id],
            )
            for r in merge.promoted
            if r.vendor_id in blobs
        ],
    )


def _baseline(row: asyncpg.Record) -> FeedBaseline:
    """A stored baseline: its Parquet blob, or the arrays of one stored before there was one."""
    if row["skus_parquet"] is not None:
        return decode_skus(row["skus_parquet"], row["accepted"])
    return FeedBaseline.of_sets(row["accepted"], row["skus"], row["in_stock_skus"])
