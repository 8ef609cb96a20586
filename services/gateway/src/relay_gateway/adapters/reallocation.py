"""The reallocation list read model (schema ``gateway``), fed by ``reallocation.changed``.

The insights service owns the list (its schema); this copy only shows it. States only move
forward (open → claimed → done | withdrawn): a late or repeated event changes nothing, and
while the state stays the same the later event wins (an open entry's quantity may change).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from relay_gateway.domain.pagination import Cursor, after_params
from relay_shared.events import ReallocationChanged
from relay_shared.reallocation_entry import ReallocationEntry

_RANK = "CASE {0} WHEN 'open' THEN 0 WHEN 'claimed' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class ReallocationQuery:
    tenant_id: str
    states: tuple[str, ...]
    #: an entry is visible when its origin or its target is one of these (or it was pushed
    #: to any channel); None = every channel
    channels: frozenset[str] | None
    limit: int
    after: Cursor | None


class ReallocationRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, event: ReallocationChanged) -> None:
        old, new = _RANK.format("reallocation_entries.state"), _RANK.format("EXCLUDED.state")
        await self._pool.execute(
            "INSERT INTO reallocation_entries (tenant_id, entry_id, origin, target, sku,"
            " quantity, reason, state, claimed_by, changed_at, event_id) VALUES ($1, $2, $3,"
            " $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (tenant_id, entry_id) DO UPDATE SET"
            " quantity = EXCLUDED.quantity, reason = EXCLUDED.reason, state = EXCLUDED.state,"
            " claimed_by = EXCLUDED.claimed_by, changed_at = EXCLUDED.changed_at,"
            f" event_id = EXCLUDED.event_id WHERE {new} > {old}"
            f" OR ({new} = {old} AND EXCLUDED.changed_at > reallocation_entries.changed_at)",
            event.tenant_id,
            event.entry_id,
            event.origin,
            event.target,
            event.sku,
            event.quantity,
            event.reason,
            event.state,
            event.claimed_by,
            event.occurred_at,
            event.event_id,
        )

    async def page(self, query: ReallocationQuery) -> list[ReallocationEntry]:
        """Latest change first; ``query.limit`` entries after the cursor position."""
        channels = None if query.channels is None else sorted(query.channels)
        rows = await self._pool.fetch(
            "SELECT entry_id, origin, target, sku, quantity, reason, state, claimed_by,"
            " changed_at FROM reallocation_entries WHERE tenant_id = $1 AND state = ANY($2)"
            " AND ($3::text[] IS NULL OR origin = ANY($3) OR target IS NULL"
            "      OR target = ANY($3))"
            " AND ($4::timestamptz IS NULL OR (changed_at, entry_id) < ($4, $5))"
            " ORDER BY changed_at DESC, entry_id DESC LIMIT $6",
            query.tenant_id,
            list(query.states),
            channels,
            *after_params(query.after),
            query.limit,
        )
        return [ReallocationEntry(**dict(row)) for row in rows]
