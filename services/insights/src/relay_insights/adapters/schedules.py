"""The daily evaluation's bookkeeping (schema ``insights``): tenants' schedules, the claim of
a (tenant, local day), and the per channel-day count of announced and held insights."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from relay_insights.adapters.database import Connection
from relay_insights.domain.schedule import Schedule

_COLUMNS = (
    "tenant_id, config_version, timezone, evaluate_daily_at, first_seen_at, last_day, last_as_of"
)


def _schedule(row: Any) -> Schedule:
    return Schedule(**dict(row))


async def all_schedules(pool: asyncpg.Pool) -> list[Schedule]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM schedules ORDER BY tenant_id")
    return [_schedule(row) for row in rows]


async def schedule_of(conn: Connection | asyncpg.Pool, tenant_id: str) -> Schedule | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM schedules WHERE tenant_id = $1", tenant_id)
    return None if row is None else _schedule(row)


async def note_tenant(
    conn: Connection | asyncpg.Pool,
    tenant_id: str,
    seen_at: datetime,
    version: int | None,
    timezone: str,
    daily_at: str,
) -> None:
    """Create the tenant's schedule, or move it to a newer config version (an older or
    repeated version changes nothing)."""
    await conn.execute(
        "INSERT INTO schedules (tenant_id, config_version, timezone, evaluate_daily_at,"
        " first_seen_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET"
        " config_version = EXCLUDED.config_version, timezone = EXCLUDED.timezone,"
        " evaluate_daily_at = EXCLUDED.evaluate_daily_at"
        " WHERE EXCLUDED.config_version IS NOT NULL AND (schedules.config_version IS NULL"
        "       OR schedules.config_version < EXCLUDED.config_version)",
        tenant_id,
        version,
        timezone,
        daily_at,
        seen_at,
    )


async def claim_day(conn: Connection, tenant_id: str, day: date, as_of: datetime) -> bool:
    """Claim the tenant's local day for this evaluation; False when it was evaluated (or
    is being evaluated by another replica, whose commit this waits for)."""
    claimed = await conn.fetchval(
        "INSERT INTO daily_evaluations (tenant_id, local_day, as_of) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING true",
        tenant_id,
        day,
        as_of,
    )
    return bool(claimed)


async def finish_day(
    conn: Connection, tenant_id: str, day: date, as_of: datetime, counts: dict[str, int]
) -> None:
    await conn.execute(
        "UPDATE daily_evaluations SET products = $3, opened = $4, resolved = $5, purged = $6,"
        " finished_at = now() WHERE tenant_id = $1 AND local_day = $2",
        tenant_id,
        day,
        counts.get("products", 0),
        counts.get("opened", 0),
        counts.get("resolved", 0),
        counts.get("purged", 0),
    )
    await conn.execute(
        "UPDATE schedules SET last_day = $2, last_as_of = $3 WHERE tenant_id = $1",
        tenant_id,
        day,
        as_of,
    )


async def announced_counts(
    conn: Connection, tenant_id: str, day: date
) -> dict[str, tuple[int, int]]:
    """channel → (sent, held) of the tenant's local day."""
    rows = await conn.fetch(
        "SELECT channel, sent, held FROM daily_announcements"
        " WHERE tenant_id = $1 AND local_day = $2",
        tenant_id,
        day,
    )
    return {row["channel"]: (row["sent"], row["held"]) for row in rows}


async def save_announced_counts(
    conn: Connection, tenant_id: str, day: date, sent: dict[str, int], held: dict[str, int]
) -> None:
    channels = sorted(set(sent) | set(held))
    if not channels:
        return
    await conn.executemany(
        "INSERT INTO daily_announcements (tenant_id, channel, local_day, sent, held)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, channel, local_day)"
        " DO UPDATE SET sent = EXCLUDED.sent, held = EXCLUDED.held",
        [(tenant_id, c, day, sent.get(c, 0), held.get(c, 0)) for c in channels],
    )
