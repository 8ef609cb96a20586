"""The operator CLI's failures that need no real gateway: nothing listening at the URL, no
URL or key, a bad URL, a missing file; and, from a local aiohttp stand-in (a run that never
ends, a proxy's 502 page), the watch time limit and a 5xx."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from relay_cli.stack import free_port

RUNNING: dict[str, Any] = {
    "run_id": "run_stuck",
    "tenant_id": "acme",
    "status": "RUNNING",
    "stage": "normalize",
    "config_version": 3,
    "requested_at": "2026-12-05T10:00:00+00:00",
    "started_at": "2026-12-05T10:00:01+00:00",
    "finished_at": None,
    "vendors": {"v1": {"status": "pending", "rows": 0, "accepted": 0, "rejected": 0,
                       "duplicates": 0}},
    "counts": {"merged_rows": None, "skus_left_out": None},
    "error": None,
    "timings": {"queued_ms": 5, "ingest_ms": None, "normalize_ms": None, "merge_ms": None},
    "attempts": {},
}  # fmt: skip


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


async def relay(*args: str, env: dict[str, str]) -> Ran:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relay_cli", *args, env={**clean, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


@pytest.fixture
async def stand_in() -> AsyncIterator[str]:
    """A server that answers GET /v1/runs/run_stuck with a run that never ends, and every
    other path with a proxy's 502 HTML page."""

    async def stuck(_request: web.Request) -> web.Response:
        return web.json_response(RUNNING)

    async def bad_gateway(_request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>")

    app = web.Application()
    app.router.add_get("/v1/runs/run_stuck", stuck)
    app.router.add_route("*", "/{tail:.*}", bad_gateway)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


async def test_nothing_listening_is_one_line_naming_the_url_and_exit_5() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    ran = await relay("runs", "list", env={"RELAY_URL": url, "RELAY_API_KEY": "rk_x"})
    assert (ran.code, ran.out) == (5, "")
    assert ran.err == f"relay runs list: cannot reach the gateway at {url}: connection refused\n"


async def test_flags_win_over_the_environment() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {"RELAY_URL": "http://127.0.0.1:1", "RELAY_API_KEY": "rk_env"}
    ran = await relay("runs", "show", "run_1", "--url", url, "--api-key", "rk_flag", env=env)
    assert (ran.code, ran.err) == (
        5,
        f"relay runs show: cannot reach the gateway at {url}: connection refused\n",
    )


async def test_no_url_or_key_or_a_bad_url_is_a_usage_error() -> None:
    no_url = await relay("config", "show", "acme", env={"RELAY_API_KEY": "rk_x"})
    assert (no_url.code, no_url.err) == (
        2,
        "relay config show: no gateway URL: pass --url or set RELAY_URL\n",
    )
    no_key = await relay("runs", "list", env={"RELAY_URL": "http://127.0.0.1:1"})
    assert (no_key.code, no_key.err) == (
        2,
        "relay runs list: no API key: pass --api-key or set RELAY_API_KEY\n",
    )
    bad = await relay("runs", "list", env={"RELAY_URL": "gateway:8080", "RELAY_API_KEY": "k"})
    assert (bad.code, bad.err) == (
        2,
        "relay runs list: the gateway URL 'gateway:8080' is not an http(s) URL with a host\n",
    )


async def test_a_missing_feed_file_is_a_usage_error(tmp_path: Path) -> None:
    env = {"RELAY_URL": f"http://127.0.0.1:{free_port()}", "RELAY_API_KEY": "rk_x"}
    missing = tmp_path / "nope.csv"
    ran = await relay("feeds", "upload", "acme", "v1", str(missing), env=env)
    assert (ran.code, ran.err) == (2, f"relay feeds upload: no file at {missing}\n")


async def test_watch_stops_at_its_time_limit_with_exit_6(stand_in: str) -> None:
    env = {"RELAY_URL": stand_in, "RELAY_API_KEY": "rk_x"}
    ran = await relay(
        "runs", "watch", "run_stuck", "--interval", "0.05", "--timeout", "0.3", env=env
    )
    assert ran.code == 6
    assert ran.err == (
        "relay runs watch: run run_stuck is still RUNNING at stage normalize after 0.3s "
        "(stopped watching; the run goes on)\n"
    )
    assert [line.split("] ", 1)[1] for line in ran.out.splitlines()] == [
        "run RUNNING stage normalize",
        "vendor v1 feed received, normalizing  rows 0  accepted 0  rejected 0  duplicates 0",
    ]


async def test_a_5xx_page_is_one_line_and_exit_5(stand_in: str) -> None:
    env = {"RELAY_URL": stand_in, "RELAY_API_KEY": "rk_x"}
    ran = await relay("runs", "list", env=env)
    assert (ran.code, ran.out) == (5, "")
    assert ran.err == (
        "relay runs list: the gateway failed: GET /v1/runs -> 502 unexpected_answer: "
        "<html><body>502 Bad Gateway</body></html>\n"
    )
