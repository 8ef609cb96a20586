"""Running services in-process against the real stack (the same code ``relay serve`` runs)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from relay_shared.runtime import run_worker


class WorkerApp(Protocol):
    settings: Any
    broker: Any

    def wired(self) -> Any: ...


@asynccontextmanager
async def running(apps: Sequence[WorkerApp]) -> AsyncIterator[None]:
    """Run each app's worker loop in a task; cancel them (clean stop) on exit."""
    tasks = [asyncio.create_task(run_worker(app.broker, app.settings, app.wired())) for app in apps]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
