"""Polling with a deadline, for state that announces itself with no event (a file another
process writes). Everything that has an event waits on the event instead."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.1) -> T:
    """``probe()`` until it returns something other than None; TimeoutError after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (value := probe()) is None:
        if loop.time() > deadline:
            raise TimeoutError(f"{probe.__name__} still None after {timeout}s")
        await asyncio.sleep(interval)
    return value
