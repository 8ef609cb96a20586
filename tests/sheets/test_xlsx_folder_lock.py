"""One writer per xlsx folder: two ``relay serve sheets`` processes on one folder, the second
refuses to start (a Postgres advisory lock keyed by the folder's path, so it holds across
nodes sharing the database); once the first stops, a new one starts."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_sheets.adapters.folder_lock import lock_name
from tests.support.polling import eventually_async

pytestmark = pytest.mark.stack


def _env(endpoints: StackEndpoints, state: Path, stream: str) -> dict[str, str]:
    return {
        **os.environ,
        **endpoints.as_env(),
        "APP_STATE_DIR": str(state),
        "APP_NATS_STREAM": stream,
    }


@asynccontextmanager
async def serving(env: dict[str, str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """``relay serve sheets`` writing its lines to ``log`` (a pipe nobody reads would fill up
    and block the process in a write, so that it could not even stop)."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "relay_cli",
            "serve",
            "sheets",
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), timeout=60)


async def lock_held(database_url: str, folder: Path) -> bool:
    connection = await asyncpg.connect(database_url)
    try:
        held = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objid = (hashtextextended($1, 0) & x'ffffffff'::bigint)",
            lock_name(folder),
        )
    finally:
        await connection.close()
    return bool(held)


async def test_a_second_sheets_process_on_the_same_folder_refuses_to_start(
    isolated_bus: StackEndpoints, tmp_path: Path, unique_id: str
) -> None:
    env = _env(isolated_bus, tmp_path, f"LOCK_{unique_id.upper()}")
    folder = tmp_path / "sheets"

    async with serving(env, tmp_path / "first.log") as first:

        async def first_holds() -> bool | None:
            return True if await lock_held(isolated_bus.database_url, folder) else None

        await eventually_async(first_holds, timeout=60, what="the first process to lock")
        async with serving(env, tmp_path / "second.log") as second:
            await asyncio.wait_for(second.wait(), timeout=60)
        assert second.returncode != 0
        output = (tmp_path / "second.log").read_text()
        assert f"another sheets process is writing {folder.resolve()}" in output
        assert first.returncode is None  # the first one keeps running
        first.terminate()
        await first.wait()

    async with serving(env, tmp_path / "third.log"):
        await eventually_async(first_holds, timeout=60, what="a new process to lock once free")
