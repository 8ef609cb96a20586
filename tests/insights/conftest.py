"""A pool on the stack's Postgres with insights' schema migrated (one per module)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.database import apply_migrations, create_pool


@pytest.fixture(scope="module")
async def pool(stack: StackEndpoints) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(stack.database_url, "insights", max_size=2)
    try:
        await apply_migrations(pool, "insights", "relay_insights.migrations")
        yield pool
    finally:
        await pool.close()
