"""The reallocation list (schema ``insights``): entries opened, withdrawn, claimed and done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relay_insights.adapters.database import Connection
from relay_shared.reallocation_entry import ReallocationEntry

_COLUMNS = "entry_id, origin, target, sku, quantity, reason, state, claimed_by, changed_at"


def _entry(row: Any) -> ReallocationEntry:
    return ReallocationEntry(**dict(row))


async def open_entries(
    conn: Connection, tenant_id: str, entries: list[ReallocationEntry]
) -> list[ReallocationEntry]:
    """Insert ``entries`` (open), in one statement; those that were new."""
    if not entries:
        return []
    ids = await conn.fetch(
        f"INSERT INTO reallocation (tenant_id, {_COLUMNS}) SELECT $1, * FROM unnest($2::text[],"
        " $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[],"
        " $10::timestamptz[]) ON CONFLICT (tenant_id, entry_id) DO NOTHING RETURNING entry_id",
        tenant_id,
        [e.entry_id for e in entries],
        [e.origin for e in entries],
        [e.target for e in entries],
        [e.sku for e in entries],
        [e.quantity for e in entries],
        [e.reason for e in entries],
        [e.state for e in entries],
        [e.claimed_by for e in entries],
        [e.changed_at for e in entries],
    )
    created = {row["entry_id"] for row in ids}
    return [entry for entry in entries if entry.entry_id in created]


async def withdraw(
    conn: Connection, tenant_id: str, entry_ids: list[str], at: datetime
) -> list[ReallocationEntry]:
    """Withdraw the entries still open among ``entry_ids``; those withdrawn."""
    if not entry_ids:
        return []
    rows = await conn.fetch(
        "UPDATE reallocation SET state = 'withdrawn', changed_at = $3"
        " WHERE tenant_id = $1 AND entry_id = ANY($2::text[]) AND state = 'open'"
        f" RETURNING {_COLUMNS}",
        tenant_id,
        entry_ids,
        at,
    )
    return [_entry(row) for row in rows]


async def entry(conn: Connection, tenant_id: str, entry_id: str) -> ReallocationEntry | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM reallocation WHERE tenant_id = $1 AND entry_id = $2",
        tenant_id,
        entry_id,
    )
    return None if row is None else _entry(row)


async def claim(
    conn: Connection, tenant_id: str, entry_id: str, channel: str, at: datetime
) -> ReallocationEntry | None:
    """Claim an open entry for ``channel``, atomically: the one UPDATE that finds it open
    wins; every other (a second pull, another replica) finds it claimed and gets None."""
    return await _move(
        conn,
        (tenant_id, entry_id, channel, at),
        "state = 'claimed', claimed_by = $3",
        "state = 'open' AND origin <> $3 AND (target IS NULL OR target = $3)",
    )


async def complete(
    conn: Connection, tenant_id: str, entry_id: str, channel: str, at: datetime
) -> ReallocationEntry | None:
    """Mark done the entry ``channel`` claimed; None when it is not claimed by ``channel``
    (open, claimed by another channel, withdrawn, or done already)."""
    return await _move(
        conn,
        (tenant_id, entry_id, channel, at),
        "state = 'done'",
        "state = 'claimed' AND claimed_by = $3",
    )


async def _move(
    conn: Connection,
    change: tuple[str, str, str, datetime],
    assignments: str,
    condition: str,
) -> ReallocationEntry | None:
    """One entry's move by a channel at a time (``change``: ``$1`` tenant, ``$2`` entry,
    ``$3`` channel, ``$4`` time), made only while ``condition`` holds, in one UPDATE: the
    entry as moved, or None when the condition did not hold."""
    row = await conn.fetchrow(
        f"UPDATE reallocation SET {assignments}, changed_at = $4"
        f" WHERE tenant_id = $1 AND entry_id = $2 AND {condition} RETURNING {_COLUMNS}",
        *change,
    )
    return None if row is None else _entry(row)
