"""The recorded order lines read model (schema ``gateway``), fed by ``order.recorded``.

The events recorded at the same time are inserted together, one statement per batch
(:class:`~relay_shared.group_commit.GroupCommit`), on a held connection
(:class:`~relay_gateway.adapters.held_connection.HeldConnection`: no reset round trip after
each); reads go through the pool. :meth:`OrdersRepository.close` gives it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from relay_gateway.adapters.held_connection import HeldConnection
from relay_gateway.domain.pagination import Cursor, after_params
from relay_shared.events import OrderRecorded
from relay_shared.group_commit import GroupCommit, each_alone_on_failure

_INSERT_LINE = (
    "INSERT INTO recorded_order_lines (tenant_id, order_id, sku, channel, quantity,"
    " shipped_at, problem, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (tenant_id, order_id, sku) DO NOTHING"
)


@dataclass(frozen=True)
class OrderLineView:
    order_id: str
    sku: str
    channel: str
    quantity: int
    shipped_at: datetime
    problem: str | None
    line_id: str


@dataclass(frozen=True)
class OrderQuery:
    tenant_id: str
    problem: str | None
    channels: frozenset[str] | None
    limit: int
    after: Cursor | None


class OrdersRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._writer = HeldConnection(pool)
        self._inserts = GroupCommit[OrderRecorded, Exception | None](self._record_batch)

    async def close(self) -> None:
        """Give the held connection back to the pool (before it closes)."""
        await self._writer.close()

    async def record(self, event: OrderRecorded) -> None:
        """Insert the event's lines, with those of the events recorded at the same time; a line
        already recorded is left as it is. An event whose batch fails is then inserted alone:
        it fails alone."""
        failure = await self._inserts.submit(event)
        if failure is not None:
            raise failure

    async def _record_batch(self, events: list[OrderRecorded]) -> list[Exception | None]:
        return await each_alone_on_failure(events, self._insert)

    async def _insert(self, events: list[OrderRecorded]) -> None:
        await self._writer.executemany(_INSERT_LINE, [r for e in events for r in _rows(e)])

    async def page(self, query: OrderQuery) -> list[OrderLineView]:
        """Newest shipment first; ``query.limit`` lines after the cursor position."""
        channels = None if query.channels is None else sorted(query.channels)
        rows = await self._pool.fetch(
            "SELECT order_id, sku, channel, quantity, shipped_at, problem, line_id"
            " FROM recorded_order_lines WHERE tenant_id = $1"
            " AND ($2::text IS NULL OR problem = $2)"
            " AND ($3::text[] IS NULL OR channel = ANY($3))"
            " AND ($4::timestamptz IS NULL OR (shipped_at, line_id) < ($4, $5))"
            " ORDER BY shipped_at DESC, line_id DESC LIMIT $6",
            query.tenant_id,
            query.problem,
            channels,
            *after_params(query.after),
            query.limit,
        )
        return [OrderLineView(**dict(row)) for row in rows]


def _rows(event: OrderRecorded) -> list[tuple[object, ...]]:
    return [
        (
            event.tenant_id,
            event.order_id,
            line.sku,
            event.channel,
            line.quantity,
            event.shipped_at,
            line.problem,
            event.event_id,
        )
        for line in event.lines
    ]
