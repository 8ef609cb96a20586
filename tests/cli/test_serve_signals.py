"""A signalled service stops even when its first cancellation is swallowed (as one landing
inside a library's start-up can be)."""

from __future__ import annotations

import asyncio
import os
import signal

from relay_cli.serve import run_until_signalled


async def test_sigterm_stops_a_service_that_swallowed_the_first_cancellation() -> None:
    started = asyncio.Event()
    cancellations = 0

    async def main() -> None:
        nonlocal cancellations
        started.set()
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations == 1:
                    asyncio.current_task().uncancel()  # type: ignore[union-attr]
                    continue  # swallowed, as a library's start-up might
                raise

    async def signal_once_started() -> None:
        await started.wait()
        os.kill(os.getpid(), signal.SIGTERM)

    sender = asyncio.create_task(signal_once_started())
    await asyncio.wait_for(run_until_signalled(main, recancel_s=0.05), timeout=10)
    await sender
    assert cancellations == 2
