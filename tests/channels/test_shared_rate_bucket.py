"""The shared token bucket on the real Postgres: takes from two pools (as two replicas hold)
racing on one key keep the rate together, go in turn, and other keys are not held up."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from relay_channels.adapters.rate_limit import HEADROOM, SharedBuckets, wait_for_turn
from relay_cli.stack import StackEndpoints
from relay_shared.database import apply_migrations, create_pool

pytestmark = pytest.mark.stack

RATE, BURST = 20.0, 6  # 5 kept for the burst (one of headroom)
TAKES = 25


@pytest.fixture
async def pools(stack: StackEndpoints) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    schema = f"rb_{uuid.uuid4().hex[:10]}"
    first = await create_pool(stack.database_url, schema)
    second = await create_pool(stack.database_url, schema)
    try:
        await first.execute(f'CREATE SCHEMA "{schema}"')
        await apply_migrations(first, schema, "relay_channels.migrations")
        yield first, second
    finally:
        await first.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await first.close()
        await second.close()


def test_a_take_waits_for_the_debt_it_leaves() -> None:
    assert wait_for_turn(2.0, 5.0) == 0.0
    assert wait_for_turn(0.0, 5.0) == 0.0
    assert wait_for_turn(-1.0, 5.0) == 0.2
    assert wait_for_turn(-3.0, 20.0) == 0.15


async def test_two_pools_share_one_keys_rate(pools: tuple[asyncpg.Pool, asyncpg.Pool]) -> None:
    replicas = [SharedBuckets(pool, "amazon", RATE, BURST) for pool in pools]
    started = time.monotonic()
    done: list[float] = []

    async def take(n: int) -> None:
        await replicas[n % 2].of("S-1").take()
        done.append(time.monotonic() - started)

    await asyncio.gather(*(take(n) for n in range(TAKES)))
    kept = BURST - HEADROOM
    ordered = sorted(done)
    # the burst goes at once, the rest one per 1/RATE s, whichever replica asked
    assert ordered[kept - 1] < 1.0
    assert ordered[-1] >= (TAKES - kept) / RATE - 0.02
    for index in range(kept, TAKES):
        assert ordered[index] >= (index - kept + 1) / RATE - 0.02, index
    other = time.monotonic()
    await replicas[0].of("S-2").take()
    assert time.monotonic() - other < 1.0
    tokens = await pools[0].fetchval("SELECT tokens FROM rate_buckets WHERE bucket = 'amazon:S-2'")
    assert tokens == kept - 1
