"""A pool connection held between statements, for the gateway's hot statements.

A statement run through the pool costs a second round trip: the pool resets the connection
when it is given back (``pg_advisory_unlock_all``, ``CLOSE ALL``, ``UNLISTEN *``,
``RESET ALL``). A statement on a held connection costs one. The connection is given back when
a statement on it fails or is cancelled (the pool replaces a broken one, the next statement
takes another), when it was lost meanwhile (a server restart), and on :meth:`close`, which
must run before the pool closes (the pool waits for every connection it lent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg


class HeldConnection:
    """One connection of ``pool``, taken at the first statement and kept; statements run one
    at a time (a lock orders concurrent callers)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._connection: Any = None
        self._lock = asyncio.Lock()

    async def fetch(self, query: str, *args: object) -> Sequence[asyncpg.Record]:
        async with self._lock:
            connection = await self._connection_to_use()
            try:
                rows: Sequence[asyncpg.Record] = await connection.fetch(query, *args)
            except BaseException:
                await self._give_back()
                raise
            return rows

    async def executemany(self, command: str, args: Sequence[Sequence[object]]) -> None:
        async with self._lock:
            connection = await self._connection_to_use()
            try:
                await connection.executemany(command, args)
            except BaseException:
                await self._give_back()
                raise

    async def close(self) -> None:
        """Give the connection back to the pool (before the pool closes)."""
        async with self._lock:
            await self._give_back()

    async def _connection_to_use(self) -> Any:
        if self._connection is not None and _lost(self._connection):
            await self._give_back()  # the pool replaces it
        if self._connection is None:
            self._connection = await self._pool.acquire()
        return self._connection

    async def _give_back(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._pool.release(connection)


def _lost(connection: Any) -> bool:
    """Closed by the server meanwhile (the pool then takes its proxy back: asking raises)."""
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:
        return True
