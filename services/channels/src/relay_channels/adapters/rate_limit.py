"""Token buckets: a marketplace's request rate, per account, shared by every replica.

The marketplace counts an account's requests whoever sends them, so two channels replicas
must not get twice the rate: the bucket is a row of ``channels.rate_buckets``, and a take is
one atomic upsert (the row lock orders concurrent takes across processes). A take always
reserves a turn: the bucket may go below zero, and the caller sleeps until its token would
have been there (``-tokens / rate``), so waiting callers go in the order they asked, with no
polling.

The marketplace counts a request when it arrives, not when it was sent: a request delayed on
the way (the first one's connection set-up) makes the next ones arrive closer together than
they were sent. :class:`SharedBuckets` therefore keeps one request of the documented burst in
hand (``HEADROOM``): the marketplace's own bucket never runs below one token for up to
``1/rate`` seconds of such delay (200 ms at Amazon's 5/s).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import asyncpg

HEADROOM = 1

#: refill since the last take (capped at the burst), less the token taken now; a new key
#: starts full. ``clock_timestamp()`` is read after the row lock is held.
_TAKE = """
INSERT INTO rate_buckets AS b (bucket, tokens, stamp) VALUES ($1, $3 - 1, clock_timestamp())
ON CONFLICT (bucket) DO UPDATE SET
    tokens = least($3, b.tokens + extract(epoch FROM clock_timestamp() - b.stamp) * $2) - 1,
    stamp = clock_timestamp()
RETURNING tokens
"""


def wait_for_turn(tokens_after: float, rate: float) -> float:
    """Seconds until a take that left ``tokens_after`` in the bucket may go."""
    return max(0.0, -tokens_after / rate)


class Pacer(Protocol):
    async def take(self) -> None: ...


class RateBuckets(Protocol):
    def of(self, key: str) -> Pacer: ...


class SharedBucket:
    """One key's bucket in Postgres; :meth:`take` waits for this caller's turn."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        key: str,
        rate: float,
        burst: int,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pool = pool
        self._key = key
        self._rate = rate
        self._burst = burst
        self._sleep = sleep

    async def take(self) -> None:
        tokens_after = await self._pool.fetchval(_TAKE, self._key, self._rate, float(self._burst))
        wait = wait_for_turn(float(tokens_after), self._rate)
        if wait > 0:
            await self._sleep(wait)


class SharedBuckets:
    """One shared bucket per key (``{marketplace}:{account}``), ``rate`` a second and a burst
    of ``burst`` less the headroom, in the pool's schema (``channels``)."""

    def __init__(self, pool: asyncpg.Pool, marketplace: str, rate: float, burst: int) -> None:
        self._pool = pool
        self._marketplace = marketplace
        self._rate = rate
        self._burst = max(1, burst - HEADROOM)

    def of(self, key: str) -> SharedBucket:
        return SharedBucket(self._pool, f"{self._marketplace}:{key}", self._rate, self._burst)
