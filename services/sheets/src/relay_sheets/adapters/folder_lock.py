"""One writer per xlsx folder, across processes and nodes.

An ``flock`` only excludes processes of one node (and not at all on many network file
systems), so the service takes a Postgres session advisory lock keyed by the folder's absolute
path (every replica shares the database) and holds it, on a connection of its own, while it
runs. A second process pointed at the same folder finds the lock taken and refuses to start
(:class:`FolderInUseError`) instead of interleaving saves with the first. Two replicas with two
different folders (each its own volume) do not conflict, but then each tenant's workbooks
would be split between them: run one replica of sheets with the xlsx backend (the Deployment in
``deploy/sheets.yaml`` says so) and scale the Google backend instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import structlog

log = structlog.get_logger(__name__)


class FolderInUseError(RuntimeError):
    """Another sheets process holds the folder's lock."""

    code = "sheets_folder_in_use"


def lock_name(folder: Path) -> str:
    return f"relay.sheets.xlsx:{folder_path(folder)}"


def folder_path(folder: Path) -> str:
    return str(folder.resolve())


@asynccontextmanager
async def hold_folder_lock(pool: asyncpg.Pool, folder: Path) -> AsyncIterator[None]:
    """Hold the folder's lock for the block; :class:`FolderInUseError` when it is held."""
    name, where = lock_name(folder), folder_path(folder)
    async with pool.acquire() as conn:
        taken = await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name)
        if not taken:
            raise FolderInUseError(
                f"another sheets process is writing {where} (Postgres advisory lock"
                f" {name!r} is held): one writer per xlsx folder; stop it or give this one"
                " another APP_STATE_DIR"
            )
        log.info("sheets.folder_locked", folder=where)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
