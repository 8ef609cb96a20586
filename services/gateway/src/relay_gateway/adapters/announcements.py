"""Events the gateway announces on its own (not with a run): written to its outbox in a
transaction of their own, then drained like every outbox event
(:meth:`relay_gateway.handlers.RunDispatcher.publish_pending`)."""

from __future__ import annotations

import asyncpg

from relay_shared.events import Event
from relay_shared.outbox import Outbox


class Announcements:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *events: Event) -> None:
        """Write ``events`` to the outbox (an event id already there is left as it is)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await Outbox.add(conn, *events)
