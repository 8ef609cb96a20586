"""Draining the transactional outbox to the bus.

Rows are claimed in batches with ``FOR UPDATE SKIP LOCKED`` (replicas drain side by side
without publishing the same row at once) and marked published in that transaction, each right
after the bus stored its event. When a publish or the commit fails, the batch's rows stay
pending and are published again later with the same ``Nats-Msg-Id``: the server drops the
repeats inside its duplicate window, and consumers are idempotent beyond it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from relay_shared.events import EVENT_TYPES, Event

PublishFn = Callable[[Event], Awaitable[bool]]


class Outbox:
    def __init__(self, pool: asyncpg.Pool, batch_size: int = 100) -> None:
        self._pool = pool
        self._batch_size = batch_size

    async def drain(self, publish: PublishFn) -> int:
        """Publish every pending event in order of writing; returns how many were published."""
        total = 0
        while True:
            published = await self._drain_batch(publish)
            total += published
            if published < self._batch_size:
                return total

    async def _drain_batch(self, publish: PublishFn) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, subject, payload FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
            )
            for row in rows:
                event = EVENT_TYPES[row["subject"]].model_validate_json(row["payload"])
                await publish(event)
                await conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE id = $1", row["id"]
                )
        return len(rows)

    async def pending(self) -> int:
        async with self._pool.acquire() as conn:
            count: int = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
        return count
