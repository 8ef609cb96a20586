"""Handling several messages of one consumer at once, each in a task of its own.

FastStream's concurrent subscriber (``max_workers`` > 1) cost about 120 µs of CPU per
message: an anyio memory stream, a task group, two tasks and two semaphore passes
(``tests/bench/bench_consumer.py``: 359-377 µs per event with it, 239-282 without). A
consumer with several workers instead takes its messages one after another from FastStream's
plain pull subscriber and starts a task per message, once a worker is free (:class:`Workers`:
the pull waits meanwhile, so at most that many are handled at once; a message waiting for a
worker is kept with in-progress acks, as a round of slow handlers can outlast ``ack_wait``).
Each task runs the ack discipline to the end (:class:`~relay_shared.bus.consuming.EventConsumer`);
the subscriber's handler returns as soon as it started it.

:class:`InFlight` holds a service's tasks. :meth:`InFlight.stop`, once the broker stopped
pulling, cancels those still running, as FastStream's concurrent subscriber did when its
broker stopped: their messages are not acked and are delivered again (the handlers are
idempotent).

With tracing on, the message's ``<subject> process`` span (FastStream's) ends when its task
has started; the task's work is its child ``<subject> handle`` span.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog
from opentelemetry import trace

log = structlog.get_logger(__name__)


class InFlight:
    """The messages a service's consumers are handling in tasks of their own."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(
        self, work: Coroutine[Any, Any, None], span: trace.Span | None, done: Workers
    ) -> None:
        """Run ``work`` in a task (inside ``span``, which it ends); ``done`` gets its worker
        back when the task ends, however it ends."""
        task = asyncio.get_running_loop().create_task(_within(span, work))
        self._tasks.add(task)
        task.add_done_callback(lambda ended: self._ended(ended, done))

    def _ended(self, task: asyncio.Task[None], workers: Workers) -> None:
        self._tasks.discard(task)
        workers.release()
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # the consumer itself failed (counted as ``error``): redelivered
            log.error("event.consumer_failed", error=repr(error), exc_info=error)

    async def stop(self) -> None:
        """Cancel the tasks still running and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Workers:
    """The free workers of one consumer: :meth:`take` waits for one."""

    def __init__(self, count: int) -> None:
        self._free = asyncio.Semaphore(count)

    @property
    def free(self) -> bool:
        """Whether :meth:`take` would not wait."""
        return not self._free.locked()

    async def take(self) -> None:
        await self._free.acquire()

    def release(self) -> None:
        self._free.release()


async def _within(span: trace.Span | None, work: Coroutine[Any, Any, None]) -> None:
    if span is None:
        await work
        return
    with trace.use_span(span, end_on_exit=True):
        await work
