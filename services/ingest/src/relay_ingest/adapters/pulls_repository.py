"""Postgres adapter (schema ``ingest``): the pulled vendors, their schedule, leases, what the
last good pull saw, and each vendor's status (``migrations/008_vendor_pulls.sql``).

A due vendor is claimed by one replica (:meth:`PullsRepository.claim`: ``FOR UPDATE SKIP
LOCKED``, a lease id and a lease end); only the lease holder records the outcome
(:meth:`PullsRepository.succeeded` / :meth:`PullsRepository.failed`): its new files are
recorded as inbound objects with their ``feed.received`` in the outbox, in one transaction
with the vendor's new state. Every change of a vendor's state (configured, pulled, failed,
removed) writes its ``vendor.pulled`` report to the outbox in that transaction
(:func:`_report`). A lease lost meanwhile (the pull outlived it and another replica
took the vendor) rolls the outcome back (:class:`LeaseLostError`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from relay_ingest.adapters.drops_repository import record_drops
from relay_ingest.domain.drops import BucketObject, Drop
from relay_ingest.domain.pull_reports import PullState, pull_report, reported_item
from relay_ingest.domain.pulls import (
    PULL,
    Claim,
    Fetched,
    PulledVendor,
    PullFailure,
    PullsSetting,
    RetryPlan,
    Validators,
)
from relay_shared.outbox import Outbox
from relay_shared.tenant_config import next_run_after

BATCH = 100


class LeaseLostError(RuntimeError):
    """Another replica holds the vendor now: this outcome is not recorded."""


class PullsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    async def configure(self, setting: PullsSetting, now: datetime) -> None:
        """The tenant's pulled vendors as of its config version (a later version only). A new
        vendor, a changed source (its validators forgotten) or a vendor whose last pull failed
        is due now; a changed cron at its next time; vendors no longer pulled go."""
        tenant_id, config_version = setting.tenant_id, setting.config_version
        vendors, timezone = setting.vendors, setting.timezone
        async with self._pool.acquire() as conn, conn.transaction():
            rows = {
                r["vendor_id"]: r
                for r in await conn.fetch(
                    "SELECT vendor_id, config_version, source, cron, timezone, status,"
                    " next_due_at FROM vendor_pulls WHERE tenant_id = $1 FOR UPDATE",
                    tenant_id,
                )
            }
            if any(r["config_version"] >= config_version for r in rows.values()):
                return
            kept = {v.vendor_id for v in vendors}
            await _report(conn, tenant_id, [v for v in rows if v not in kept], now, removed=True)
            await conn.execute(
                "DELETE FROM vendor_pulls WHERE tenant_id = $1 AND NOT vendor_id = ANY($2)",
                tenant_id,
                [v.vendor_id for v in vendors],
            )
            for vendor in vendors:
                due, fresh = _next_due(rows.get(vendor.vendor_id), vendor, timezone, now)
                await conn.execute(
                    "INSERT INTO vendor_pulls (tenant_id, vendor_id, config_version, kind, source,"
                    " cron, timezone, next_due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    " ON CONFLICT (tenant_id, vendor_id) DO UPDATE SET"
                    " config_version = EXCLUDED.config_version, kind = EXCLUDED.kind,"
                    " source = EXCLUDED.source, cron = EXCLUDED.cron,"
                    " timezone = EXCLUDED.timezone, next_due_at = EXCLUDED.next_due_at,"
                    " attempts = 0, etag = CASE WHEN $9 THEN NULL ELSE vendor_pulls.etag END,"
                    " last_modified = CASE WHEN $9 THEN NULL ELSE vendor_pulls.last_modified END,"
                    " files = CASE WHEN $9 THEN '{}'::jsonb ELSE vendor_pulls.files END",
                    tenant_id,
                    vendor.vendor_id,
                    config_version,
                    vendor.kind,
                    vendor.source,
                    vendor.cron,
                    timezone,
                    due,
                    fresh,
                )
            await _report(conn, tenant_id, [v.vendor_id for v in vendors], now)

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[Claim]:
        """Take up to ``limit`` due vendors no replica holds, for ``lease``."""
        rows = await self._pool.fetch(
            "UPDATE vendor_pulls p SET lease_id = $3 || ':' || p.vendor_id,"
            " leased_until = $1::timestamptz + $4::interval, attempts = p.attempts + 1,"
            " last_attempt_at = $1 FROM (SELECT tenant_id, vendor_id FROM vendor_pulls"
            " WHERE next_due_at <= $1 AND (leased_until IS NULL OR leased_until < $1)"
            " ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due"
            " WHERE p.tenant_id = due.tenant_id AND p.vendor_id = due.vendor_id"
            " RETURNING p.*",
            now,
            min(limit, BATCH),
            uuid.uuid4().hex,
            lease,
        )
        return [_claim(row) for row in rows]

    async def succeeded(
        self, claim: Claim, fetched: Sequence[Fetched], validators: Validators, now: datetime
    ) -> int:
        """Record the new files (their ``feed.received`` in the outbox) and the vendor's new
        state: ``ok`` (or ``unchanged`` with no new file), due at its next cron time. Returns
        how many feeds were announced."""
        found = [
            Drop(claim.tenant_id, claim.vendor_id, BucketObject(f.key, f.etag, f.size, now))
            for f in fetched
        ]
        async with self._pool.acquire() as conn, conn.transaction():
            await self._release(
                conn,
                claim,
                "SET status = $4, error_code = NULL, error = NULL, attempts = 0,"
                " next_due_at = $5, last_success_at = $6, etag = $7, last_modified = $8,"
                " files = $9::jsonb, last_key = COALESCE($10, last_key)",
                "ok" if fetched else "unchanged",
                next_run_after(claim.cron, claim.timezone, now),
                now,
                validators.etag,
                validators.last_modified,
                json.dumps(validators.files or {}),
                fetched[-1].key if fetched else None,
            )
            await _report(conn, claim.tenant_id, [claim.vendor_id], now)
            return await record_drops(conn, claim.config_version, found, PULL)

    async def failed(
        self, claim: Claim, failure: PullFailure, plan: RetryPlan, now: datetime
    ) -> None:
        """The vendor's failure and when it is tried again."""
        async with self._pool.acquire() as conn, conn.transaction():
            await self._release(
                conn,
                claim,
                "SET status = $4, error_code = $5, error = $6, attempts = $7, next_due_at = $8",
                plan.status,
                failure.code,
                str(failure)[:1000],
                plan.attempts,
                plan.next_due_at,
            )
            await _report(conn, claim.tenant_id, [claim.vendor_id], now)

    @staticmethod
    async def _release(conn: Any, claim: Claim, assignments: str, *values: object) -> None:
        done = await conn.execute(
            f"UPDATE vendor_pulls {assignments}, lease_id = NULL, leased_until = NULL"
            " WHERE tenant_id = $1 AND vendor_id = $2 AND lease_id = $3",
            claim.tenant_id,
            claim.vendor_id,
            claim.lease_id,
            *values,
        )
        if done != "UPDATE 1":
            raise LeaseLostError(f"{claim.tenant_id}/{claim.vendor_id}: the lease was lost")

    async def statuses(self, tenant_id: str) -> dict[str, dict[str, Any]]:
        """Each pulled vendor's state, for operators and tests."""
        rows = await self._pool.fetch(
            "SELECT vendor_id, kind, status, error_code, error, attempts, next_due_at,"
            " last_attempt_at, last_success_at, last_key, etag FROM vendor_pulls"
            " WHERE tenant_id = $1 ORDER BY vendor_id",
            tenant_id,
        )
        return {r["vendor_id"]: dict(r) for r in rows}


async def _report(
    conn: Any, tenant_id: str, vendor_ids: Sequence[str], now: datetime, *, removed: bool = False
) -> None:
    """Number the vendors' current states (a higher number than any before) and write their
    ``vendor.pulled`` reports to the outbox (``removed``: the last report of each)."""
    if not vendor_ids:
        return
    rows = await conn.fetch(
        "UPDATE vendor_pulls SET report_seq = GREATEST(report_seq + 1,"
        " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)"
        " WHERE tenant_id = $1 AND vendor_id = ANY($2::text[]) RETURNING *",
        tenant_id,
        list(vendor_ids),
    )
    await Outbox.add(conn, *(pull_report(_state(row), now, removed=removed) for row in rows))


def _state(row: asyncpg.Record) -> PullState:
    return PullState(row["tenant_id"], reported_item(dict(row)), row["report_seq"])


def _next_due(
    row: asyncpg.Record | None, vendor: PulledVendor, timezone: str, now: datetime
) -> tuple[datetime, bool]:
    """When a (re)configured vendor is due, and whether its source is new (validators
    forgotten): new, changed or last failed: now; a changed cron: its next time; else as
    it was."""
    if row is None or row["source"] != vendor.source:
        return now, True
    if row["status"] == "failed":
        return now, False
    if (row["cron"], row["timezone"]) != (vendor.cron, timezone):
        return next_run_after(vendor.cron, timezone, now), False
    due: datetime = row["next_due_at"]
    return due, False


def _claim(row: asyncpg.Record) -> Claim:
    files = row["files"]
    return Claim(
        tenant_id=row["tenant_id"],
        vendor_id=row["vendor_id"],
        config_version=row["config_version"],
        cron=row["cron"],
        timezone=row["timezone"],
        attempts=row["attempts"],
        lease_id=row["lease_id"],
        validators=Validators(
            row["etag"],
            row["last_modified"],
            json.loads(files) if isinstance(files, str) else dict(files or {}),
        ),
    )
