"""A coroutine running in the background while a block runs (stopped when it ends).

A background loop (``while True: try: step() except ...: log; sleep``) can outlive one
cancellation: a cancellation that lands inside a library can come out as that library's own
error (a timeout, a connection error), which the loop catches, logs and sleeps after, as if
nothing asked it to stop. Seen here: the suite hung 30 minutes in the teardown of a sheets
service whose upload scanner had been cancelled once and was back asleep. :func:`stop`
therefore cancels again until the task has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

#: how long a cancelled task may take to end before it is cancelled again
RECANCEL_S = 1.0


async def stop(task: asyncio.Task[Any], recancel_s: float = RECANCEL_S) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling it again every ``recancel_s``
    meanwhile; an error it ended with other than the cancellation is raised."""
    task.cancel()
    while not task.done():
        await asyncio.wait({task}, timeout=recancel_s)
        if not task.done():
            task.cancel()
    with suppress(asyncio.CancelledError):
        task.result()


@asynccontextmanager
async def running(
    work: Coroutine[Any, Any, object], recancel_s: float = RECANCEL_S
) -> AsyncIterator[None]:
    """``work`` as a task while the block runs; stopped (:func:`stop`) on exit."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        await stop(task, recancel_s)
