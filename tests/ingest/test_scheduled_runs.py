"""Scheduled runs on a real Postgres: the schedules live in ingest's schema, and two separate
OS processes ticking the same due schedules side by side (some waiting for vendors, found
fresh) start each due run exactly once (one ``scheduled_runs`` row and one ``run.requested``
in the outbox per tenant); the next due time
is the cron's next time after now, in the tenant's timezone."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_ingest.adapters.schedules_repository import SchedulesRepository
from relay_ingest.domain.schedules import ScheduleSetting, scheduled_run_id
from relay_shared.database import apply_migrations, create_pool

pytestmark = pytest.mark.stack

TICKER = """
import asyncio, json, sys
from datetime import UTC, datetime
from relay_ingest.adapters.schedules_repository import SchedulesRepository
from relay_shared.database import create_pool

async def main(dsn, schema, rounds):
    pool = await create_pool(dsn, schema)
    started = []
    repository = SchedulesRepository(pool)
    for _ in range(rounds):
        now = datetime.now(UTC)
        started += await repository.start_due(now)
        for due in await repository.waiting(now):  # as if their vendors were fresh
            run_id = await repository.start(due, now, "vendors_fresh", [])
            if run_id is not None:
                started.append(run_id)
    await pool.close()
    print(json.dumps(started))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


@pytest.fixture
async def pool(stack: StackEndpoints, unique_id: str) -> AsyncIterator[asyncpg.Pool]:
    schema = f"sched_{unique_id}"
    pool = await create_pool(stack.database_url, schema)
    await apply_migrations(pool, schema, "relay_ingest.migrations")
    try:
        yield pool
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


async def _ticker(database_url: str, schema: str) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        TICKER,
        database_url,
        schema,
        "40",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    started: list[str] = json.loads(out.decode().strip().splitlines()[-1])
    return started


async def test_two_processes_start_each_due_run_once(
    pool: asyncpg.Pool, stack: StackEndpoints, unique_id: str
) -> None:
    repository = SchedulesRepository(pool)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    tenants = [f"t{n:02d}-{unique_id}" for n in range(30)]
    for n, tenant_id in enumerate(tenants):
        waits = ["v1", "v2"] if n % 2 else []
        setting = ScheduleSetting(tenant_id, 1, "*/5 * * * *", "Asia/Kolkata", tuple(waits))
        await repository.set_schedule(setting, an_hour_ago)
    due = {
        r["tenant_id"]: r["next_due_at"] for r in await pool.fetch("SELECT * FROM run_schedules")
    }

    first, second = await asyncio.gather(
        _ticker(stack.database_url, f"sched_{unique_id}"),
        _ticker(stack.database_url, f"sched_{unique_id}"),
    )

    expected = {scheduled_run_id(t, due[t]) for t in tenants}
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == sorted(expected)
    rows = await pool.fetch("SELECT tenant_id, count(*) AS n FROM scheduled_runs GROUP BY 1")
    assert {r["tenant_id"]: r["n"] for r in rows} == dict.fromkeys(tenants, 1)
    reasons = await pool.fetch("SELECT started_by, count(*) AS n FROM scheduled_runs GROUP BY 1")
    assert {r["started_by"]: r["n"] for r in reasons} == {"cron": 15, "vendors_fresh": 15}
    outbox = await pool.fetch("SELECT event_id FROM outbox WHERE subject = 'run.requested'")
    assert sorted(r["event_id"] for r in outbox) == sorted(f"run.requested:{r}" for r in expected)
    later = await pool.fetch("SELECT next_due_at FROM run_schedules")
    now = datetime.now(UTC)
    assert all(now < r["next_due_at"] <= now + timedelta(minutes=5) for r in later)


async def test_a_config_version_sets_moves_or_removes_the_schedule(pool: asyncpg.Pool) -> None:
    repository = SchedulesRepository(pool)
    at = datetime(2026, 12, 5, 10, 7, tzinfo=UTC)  # 02:07 in Los Angeles

    await repository.set_schedule(
        ScheduleSetting("acme", 2, "0 6 * * *", "America/Los_Angeles"), at
    )
    await repository.set_schedule(ScheduleSetting("acme", 1, "0 9 * * *", "UTC"), at)  # older
    first = await pool.fetchrow("SELECT * FROM run_schedules WHERE tenant_id = 'acme'")
    await repository.set_schedule(
        ScheduleSetting("acme", 3, "0 6 * * *", "America/Los_Angeles"), at + timedelta(hours=1)
    )
    kept = await pool.fetchrow("SELECT * FROM run_schedules WHERE tenant_id = 'acme'")
    await repository.set_schedule(ScheduleSetting("acme", 4, None, "UTC"), at)

    assert (first["cron"], first["next_due_at"]) == (
        "0 6 * * *",
        datetime(2026, 12, 5, 14, 0, tzinfo=UTC),
    )
    assert (kept["config_version"], kept["next_due_at"]) == (3, first["next_due_at"])
    assert await pool.fetchval("SELECT count(*) FROM run_schedules") == 0
    assert await repository.start_due(at + timedelta(days=2)) == []
