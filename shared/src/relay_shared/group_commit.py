"""Group commit: concurrent callers' work runs together, one round trip per batch (the
gateway's receipts, insights' orders of one tenant, the outbox's drains).

Whoever submits while no commit is in flight starts one; whoever submits while one is in
flight joins the next, which starts as soon as the current one ends. So a lone request waits
for nothing but its own round trip, and a burst of ``n`` concurrent requests costs a few round
trips instead of ``n`` (each with the pool's reset of the connection after it).

A batch's ``commit`` answers one result per item, in order. When it raises, every item of that
batch gets the exception (each request answers as it would have alone); the next batch still
runs. Items are never dropped: a waiter cancelled meanwhile has its item committed anyway.
The commit runs in a context of its own (no caller's log ids or span); a caller that wants its
own around its item's work passes it with the item (``contextvars.copy_context()``).

A commit whose items must fail one by one (one bad item must not fail the others) answers
:func:`each_alone_on_failure`'s outcomes, and its callers raise their own.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog

T = TypeVar("T")
R = TypeVar("R")

log = structlog.get_logger(__name__)


class BatchSizeError(RuntimeError):
    """A commit answered a different number of results than it was given items (a bug)."""


class GroupCommit(Generic[T, R]):
    def __init__(self, commit: Callable[[list[T]], Awaitable[Sequence[R]]], max_batch: int = 500):
        self._commit = commit
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """``item``'s result, once the batch it went into is committed."""
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._committer is None:
            # Its own context: it commits many callers' items, not the first caller's (whose
            # bound log ids and span it would otherwise carry).
            committing = self._commit_waiting()
            self._committer = asyncio.create_task(committing, context=contextvars.Context())
        return await answer

    async def _commit_waiting(self) -> None:
        """Commit the waiting items, batch after batch, until none are left."""
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._commit_batch(batch)
                batch = []
        finally:
            self._committer = None
            for _, answer in [*batch, *self._waiting]:
                answer.cancel()
            self._waiting = []

    async def _commit_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._commit([item for item, _ in batch])
            if len(results) != len(batch):
                raise BatchSizeError(f"{len(results)} results for {len(batch)} items")
        except Exception as exc:  # noqa: BLE001 - re-raised in every waiting request
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return
        for (_, answer), result in zip(batch, results, strict=True):
            if not answer.done():
                answer.set_result(result)


async def each_alone_on_failure(
    items: list[T], run: Callable[[list[T]], Awaitable[object]]
) -> list[Exception | None]:
    """Each item's outcome (None: done) of ``run`` on all of ``items`` at once, or, when that
    fails, of ``run`` on each item alone, so an item that fails fails alone. ``run`` must
    leave nothing behind when it fails (a rolled-back transaction, one statement)."""
    try:
        await run(items)
    except Exception as exc:  # noqa: BLE001 - answered per item below
        if len(items) == 1:
            return [exc]
        log.warning("group_commit.batch_failed", items=len(items), error=repr(exc))
        return [await _alone(run, item) for item in items]
    return [None] * len(items)


async def _alone(run: Callable[[list[T]], Awaitable[object]], item: T) -> Exception | None:
    try:
        await run([item])
    except Exception as exc:  # noqa: BLE001 - this item's own outcome
        return exc
    return None
