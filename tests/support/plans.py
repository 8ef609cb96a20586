"""The generic plan of a statement, as a connection runs a prepared statement after its first
executions (asyncpg prepares every statement): planned once for any parameters, on the
statistics of the moment."""

from __future__ import annotations

import asyncpg


async def generic_plan(
    pool: asyncpg.Pool, name: str, query: str, types: str, args: str
) -> list[str]:
    """The lines of ``EXPLAIN`` of ``query`` prepared as ``name`` with parameter ``types``,
    executed with ``args`` (SQL literals) under ``plan_cache_mode = force_generic_plan``;
    each line stripped of its indentation."""
    async with pool.acquire() as conn:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE {name} ({types}) AS {query}")
        try:
            rows = await conn.fetch(f"EXPLAIN EXECUTE {name} ({args})")
        finally:
            await conn.execute(f"DEALLOCATE {name}")
            await conn.execute("RESET plan_cache_mode")
    return [row[0].strip() for row in rows]
