"""Polling with a deadline, the one place tests wait on state that announces itself with no
event (a file another process writes, a consumer's ack floor, a stream being declared).
Everything that has an event waits on the event instead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
INTERVAL_S = 0.05


async def eventually_async(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,
    what: str = "",
    interval: float = INTERVAL_S,
) -> T:
    """``await probe()`` until it returns something other than None; TimeoutError after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (value := await probe()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what or probe.__name__}")
        await asyncio.sleep(interval)
    return value


async def eventually(
    probe: Callable[[], T | None], *, timeout: float, what: str = "", interval: float = INTERVAL_S
) -> T:
    """``probe()`` (synchronous) until it returns something other than None."""

    async def call() -> T | None:
        return probe()

    return await eventually_async(
        call, timeout=timeout, what=what or probe.__name__, interval=interval
    )


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, poll: float = INTERVAL_S
) -> float:
    """Poll ``check`` until true; returns the seconds it took."""
    started = time.monotonic()

    async def true_or_none() -> bool | None:
        return True if await check() else None

    await eventually_async(true_or_none, timeout=timeout, what=what, interval=poll)
    return time.monotonic() - started
