"""Postgres adapter (schema ``channels``): tenants' latest config and merged feed, the action
audit, eBay revision counts, and the outbox.

An action's row is written ``pending`` (with the exact request and the change) before
anything is sent, and finished once: :meth:`ChannelsDatabase.finish` sets the outcome only
while it is still pending, and writes the ``channel.acted`` event (and any other) to the
outbox in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay_channels.domain.decisions import PlannedAction
from relay_channels.domain.requests import Change
from relay_shared.errors import TransientError
from relay_shared.events import ActionOutcome, Event, ProductStatus
from relay_shared.outbox import Outbox

Connection = asyncpg.Connection | PoolConnectionProxy


@dataclass(frozen=True)
class LatestMerge:
    """The tenant's latest merged feed as channels knows it (its prices are the floors)."""

    config_version: int | None
    merged_key: str | None


@dataclass(frozen=True)
class Pending:
    """A started action: its change and request as first written, and how often it was
    attempted before (a redelivery re-sends exactly this)."""

    change: Change
    request: dict[str, Any]
    attempts: int
    outcome: str | None
    #: another consumer holds it now (only told when not attempting)
    leased: bool = False


@dataclass(frozen=True)
class Finished:
    outcome: ActionOutcome
    request: dict[str, Any]
    answer: str | None
    duration_ms: int
    status_after: ProductStatus | None = None
    price_after: Decimal | None = None
    artifact_key: str | None = None
    #: a deferred action is sent again from then on
    not_before: datetime | None = None


@dataclass(frozen=True)
class Deferred:
    """A deferred action whose time has come, leased for this attempt."""

    planned: PlannedAction
    pending: Pending
    correlation_id: str


class ActionInFlightError(TransientError):
    """Another consumer is sending this action now: try again once it has finished."""


class ChannelsDatabase:
    def __init__(self, pool: asyncpg.Pool, lease_s: float = 120.0) -> None:
        self._pool = pool
        self._lease_s = lease_s

    async def save_config_version(self, tenant_id: str, version: int) -> None:
        await self._pool.execute(
            "INSERT INTO tenants (tenant_id, config_version) VALUES ($1, $2)"
            " ON CONFLICT (tenant_id) DO UPDATE SET config_version ="
            " GREATEST(tenants.config_version, EXCLUDED.config_version)",
            tenant_id,
            version,
        )

    async def save_merged(self, tenant_id: str, version: int, key: str, at: datetime) -> None:
        """The newest merged feed wins (a late older one changes nothing but the version)."""
        await self.save_config_version(tenant_id, version)
        await self._pool.execute(
            "UPDATE tenants SET merged_key = $2, merged_at = $3 WHERE tenant_id = $1"
            " AND (merged_at IS NULL OR merged_at <= $3)",
            tenant_id,
            key,
            at,
        )

    async def tenant(self, tenant_id: str) -> LatestMerge | None:
        row = await self._pool.fetchrow(
            "SELECT config_version, merged_key FROM tenants WHERE tenant_id = $1", tenant_id
        )
        return None if row is None else LatestMerge(row["config_version"], row["merged_key"])

    async def outcome(self, action_id: str) -> str | None:
        """The finished action's outcome; None when it is pending or not started."""
        value: str | None = await self._pool.fetchval(
            "SELECT outcome FROM actions WHERE action_id = $1", action_id
        )
        return value

    async def start(
        self,
        planned: PlannedAction,
        change: Change,
        request: dict[str, Any],
        correlation: str,
        *,
        attempt: bool = True,
    ) -> Pending:
        """Write the action pending (unless it exists); with ``attempt``, lease it for this
        attempt and count it (:class:`ActionInFlightError` while another consumer holds it).
        What is stored wins over what was just planned."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _insert(conn, planned, change, request, correlation)
            if attempt:
                await self._lease(conn, planned.action_id)
            row = await conn.fetchrow(
                "SELECT request, set_quantity, set_price, attempts, outcome,"
                " coalesce(leased_until > now(), false) AS leased FROM actions"
                " WHERE action_id = $1",
                planned.action_id,
            )
        if row is None:  # written just above, in this transaction
            raise RuntimeError(f"action {planned.action_id} vanished while it was started")
        stored = Change(
            planned.action, planned.sku, row["set_quantity"], row["set_price"], change.currency
        )
        before = row["attempts"] - (1 if attempt and row["outcome"] is None else 0)
        request = json.loads(row["request"])
        return Pending(stored, request, before, row["outcome"], row["leased"] and not attempt)

    async def _lease(self, conn: Connection, action_id: str) -> None:
        """Hold a pending action for this attempt and count it; ActionInFlightError while
        another consumer holds it."""
        row = await conn.fetchrow(
            "SELECT leased_until > now() AS leased, outcome FROM actions"
            " WHERE action_id = $1 FOR UPDATE",
            action_id,
        )
        if row is None or row["outcome"] is not None:
            return
        if row["leased"]:
            raise ActionInFlightError(
                f"action {action_id} is being sent by another consumer", code="action_in_flight"
            )
        await conn.execute(
            "UPDATE actions SET attempts = attempts + 1,"
            " leased_until = now() + make_interval(secs => $2) WHERE action_id = $1",
            action_id,
            self._lease_s,
        )

    async def release(self, action_id: str) -> None:
        """Give a pending (or resumed deferred) action back: its send failed transiently,
        a redelivery (or the next sweep) retries."""
        await self._pool.execute(
            "UPDATE actions SET leased_until = NULL WHERE action_id = $1"
            " AND (outcome IS NULL OR outcome = 'deferred')",
            action_id,
        )

    async def finish(
        self, action_id: str, finished: Finished, events: list[Event], *, resumed: bool = False
    ) -> bool:
        """Finish a pending action (``resumed``: a deferred one) and write its events; False
        when it was finished."""
        async with self._pool.acquire() as conn, conn.transaction():
            done = await conn.fetchval(
                "UPDATE actions SET outcome = $2, request = $3, answer = $4, duration_ms = $5,"
                " status_after = $6, price_after = $7, artifact_key = $8, finished_at = now(),"
                " not_before = $9, leased_until = NULL"
                " WHERE action_id = $1 AND (outcome IS NULL OR ($10 AND outcome = 'deferred'))"
                " RETURNING true",
                action_id,
                finished.outcome,
                json.dumps(finished.request),
                finished.answer,
                finished.duration_ms,
                finished.status_after,
                finished.price_after,
                finished.artifact_key,
                finished.not_before,
                resumed,
            )
            if done:
                await Outbox.add(conn, *events)
        return bool(done)

    async def claim_deferred(self, now: datetime, limit: int) -> list[Deferred]:
        """Lease (and count an attempt of) up to ``limit`` deferred actions due at ``now``;
        a replica's claim skips those another holds."""
        rows = await self._pool.fetch(
            "UPDATE actions SET attempts = attempts + 1,"
            " leased_until = now() + make_interval(secs => $3)"
            " WHERE action_id IN (SELECT action_id FROM actions WHERE outcome = 'deferred'"
            " AND not_before <= $1 AND (leased_until IS NULL OR leased_until <= now())"
            " ORDER BY not_before LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " RETURNING tenant_id, channel, insight_id, action, action_id, sku, plugin,"
            " dry_run, request, set_quantity, set_price, attempts, correlation_id",
            now,
            limit,
            self._lease_s,
        )
        return [_deferred(row) for row in rows]

    async def reserve_revision(
        self, tenant_id: str, channel: str, sku: str, day: date, limit: int
    ) -> bool:
        """Count one revision of the listing today; False (nothing counted) when it would
        pass ``limit``."""
        counted = await self._pool.fetchval(
            "INSERT INTO ebay_revisions (tenant_id, channel, sku, day, revisions)"
            " SELECT $1, $2, $3, $4, 1 WHERE $5 >= 1"
            " ON CONFLICT (tenant_id, channel, sku, day) DO UPDATE"
            " SET revisions = ebay_revisions.revisions + 1"
            " WHERE ebay_revisions.revisions + 1 <= $5 RETURNING revisions",
            tenant_id,
            channel,
            sku,
            day,
            limit,
        )
        return counted is not None


async def _insert(
    conn: Connection,
    planned: PlannedAction,
    change: Change,
    request: dict[str, Any],
    correlation: str,
) -> None:
    """The action's pending row, unless it exists."""
    await conn.execute(
        "INSERT INTO actions (tenant_id, channel, insight_id, action, action_id, sku,"
        " plugin, dry_run, request, set_quantity, set_price, correlation_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT DO NOTHING",
        planned.tenant_id,
        planned.channel,
        planned.insight_id,
        planned.action,
        planned.action_id,
        planned.sku,
        planned.plugin,
        planned.dry_run,
        json.dumps(request),
        change.quantity,
        change.price,
        correlation,
    )


def _deferred(row: asyncpg.Record) -> Deferred:
    planned = PlannedAction(
        action_id=row["action_id"],
        tenant_id=row["tenant_id"],
        channel=row["channel"],
        plugin=row["plugin"],
        insight_id=row["insight_id"],
        sku=row["sku"],
        action=row["action"],
        dry_run=row["dry_run"],
    )
    change = Change(row["action"], row["sku"], row["set_quantity"], row["set_price"])
    pending = Pending(change, json.loads(row["request"]), row["attempts"] - 1, "deferred")
    return Deferred(planned, pending, row["correlation_id"])
