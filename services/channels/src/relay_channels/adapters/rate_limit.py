"""Token buckets: a marketplace's request rate, per account, in this process.

The marketplace counts a request when it arrives, not when it was sent: a request delayed on
the way (the first one's connection set-up) makes the next ones arrive closer together than
they were sent. :class:`Buckets` therefore keeps one request of the documented burst in hand
(``HEADROOM``): the marketplace's own bucket never runs below one token for up to
``1/rate`` seconds of such delay (200 ms at Amazon's 5/s).
"""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved; :meth:`take` waits for one."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)


HEADROOM = 1


class Buckets:
    """One bucket per key (a selling partner account), ``rate`` a second and a burst of
    ``burst`` less the headroom."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = max(1, burst - HEADROOM)
        self._buckets: dict[str, TokenBucket] = {}

    def of(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst)
        return bucket
