"""Write-behind per spreadsheet: one read and one save serve every message waiting for it.

A handler :meth:`CoalescingWriter.submit`\\ s its edit for a spreadsheet and waits. One flusher
task per spreadsheet gathers what is pending, waits a little for more (``linger_s`` after the
oldest pending edit, and at least ``min_interval_s`` between two flushes of one spreadsheet;
at once when ``max_batch`` edits wait), then has the backend apply them in arrival order with
one read and one atomic save. Only then does each waiter get its outcome: the handler returns
(and its message is acked) after its change is on disk. When the read or the save fails,
every waiter of the batch gets that exception (its message is nak'ed and redelivered); an edit
that fails on its own fails only its waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from relay_sheets.adapters.backend import SheetBackend, SheetEdit
from relay_sheets.domain.grid import WorksheetUpsert
from relay_sheets.domain.layout import SpreadsheetRef

log = structlog.get_logger(__name__)


@dataclass
class WriterStats:
    """Counters since start: flushes attempted, saves done, flushes that failed whole, and
    edits applied or failed (alone, or with their whole flush)."""

    flushes: int = 0
    saves: int = 0
    failed_flushes: int = 0
    edits_applied: int = 0
    edits_failed: int = 0


@dataclass
class _Waiting:
    edit: SheetEdit
    future: asyncio.Future[Sequence[WorksheetUpsert]]
    since: float


@dataclass
class _Queue:
    waiting: list[_Waiting] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    flusher: asyncio.Task[None] | None = None


class CoalescingWriter:
    def __init__(
        self,
        backend: SheetBackend,
        *,
        linger_s: float = 0.1,
        min_interval_s: float = 0.0,
        max_batch: int = 500,
    ) -> None:
        if max_batch < 1 or linger_s < 0 or min_interval_s < 0:
            raise ValueError("max_batch must be ≥ 1 and the delays ≥ 0")
        self._backend = backend
        self._linger_s = linger_s
        self._min_interval_s = min_interval_s
        self._max_batch = max_batch
        self._queues: dict[SpreadsheetRef, _Queue] = {}
        self.stats = WriterStats()

    async def submit(self, ref: SpreadsheetRef, edit: SheetEdit) -> Sequence[WorksheetUpsert]:
        """Apply ``edit`` to ``ref`` with the others pending for it; returns the upserts it
        applied once they are saved, or raises what stopped it (nothing of it is saved)."""
        future: asyncio.Future[Sequence[WorksheetUpsert]] = (
            asyncio.get_running_loop().create_future()
        )
        queue = self._queues.setdefault(ref, _Queue())
        queue.waiting.append(_Waiting(edit, future, time.monotonic()))
        if queue.flusher is None:
            # Its own log context: it serves many messages, not the one that started it.
            flush = self._flush_while_waiting(ref, queue)
            queue.flusher = asyncio.create_task(flush, context=contextvars.Context())
        elif len(queue.waiting) >= self._max_batch:
            queue.wake.set()
        return await future

    async def aclose(self) -> None:
        """Stop the flushers; edits still waiting fail with ``CancelledError`` (their messages
        are not acked, so they are redelivered)."""
        queues = list(self._queues.values())
        self._queues.clear()
        for queue in queues:
            if queue.flusher is not None:
                queue.flusher.cancel()
        for queue in queues:
            if queue.flusher is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await queue.flusher
            # A flusher cancelled before it ever ran did not get to settle its waiters.
            _cancel_unsettled(queue.waiting)

    async def _flush_while_waiting(self, ref: SpreadsheetRef, queue: _Queue) -> None:
        last_flush = float("-inf")
        try:
            while queue.waiting:
                due = max(
                    queue.waiting[0].since + self._linger_s, last_flush + self._min_interval_s
                )
                await self._until(queue, due)
                batch = queue.waiting[: self._max_batch]
                del queue.waiting[: self._max_batch]
                last_flush = time.monotonic()
                try:
                    await self._flush(ref, batch)
                finally:
                    _cancel_unsettled(batch)
        finally:
            _cancel_unsettled(queue.waiting)
            if self._queues.get(ref) is queue:
                del self._queues[ref]

    async def _until(self, queue: _Queue, due: float) -> None:
        """Until ``due`` (monotonic), or sooner when a full batch waits."""
        while len(queue.waiting) < self._max_batch:
            remaining = due - time.monotonic()
            if remaining <= 0:
                return
            queue.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.wake.wait(), remaining)

    async def _flush(self, ref: SpreadsheetRef, batch: list[_Waiting]) -> None:
        live = [w for w in batch if not w.future.done()]  # a cancelled waiter is not applied
        if not live:
            return
        self.stats.flushes += 1
        started = time.monotonic()
        try:
            result = await self._backend.apply_edits(ref, [w.edit for w in live])
        except Exception as exc:  # noqa: BLE001 - every waiter of the batch raises it
            self.stats.failed_flushes += 1
            self.stats.edits_failed += len(live)
            log.warning("sheets.flush_failed", edits=len(live), error=repr(exc))
            for waiting in live:
                _settle(waiting.future, exc)
            return
        self.stats.saves += int(result.saved)
        for waiting, outcome in zip(live, result.outcomes, strict=True):
            failed = isinstance(outcome, Exception)
            self.stats.edits_failed += int(failed)
            self.stats.edits_applied += int(not failed)
            _settle(waiting.future, outcome)
        log.info(
            "sheets.flushed",
            spreadsheet=f"{'/'.join(ref.folder)}/{ref.title}",
            edits=len(live),
            saved=result.saved,
            seconds=round(time.monotonic() - started, 3),
        )


def _settle(
    future: asyncio.Future[Sequence[WorksheetUpsert]],
    outcome: Sequence[WorksheetUpsert] | Exception,
) -> None:
    if future.done():  # its handler was cancelled meanwhile
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _cancel_unsettled(waiting: list[_Waiting]) -> None:
    """Waiters left without an outcome (the flusher was cancelled) are cancelled, never left
    hanging: their messages go unacked and are redelivered."""
    for one in waiting:
        one.future.cancel()
