"""A stand-in for ``relay serve <name>`` in the CLI tests (no real service code).

Writes its environment to ``$FAKE_REPORT_DIR/<name>.json`` once up; the gateway answers
``GET /v1/health``. ``FAKE_CRASH=<name>`` makes that service exit 3 at once;
``FAKE_IGNORE_SIGTERM=<name>`` makes it ignore SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from aiohttp import web


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def run(name: str) -> None:
    if os.environ.get("FAKE_CRASH") == name:
        print(f"{name}: crashing on purpose", flush=True)
        sys.exit(3)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if os.environ.get("FAKE_IGNORE_SIGTERM") == name:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    runner: web.AppRunner | None = None
    if name == "gateway":
        app = web.Application()
        app.router.add_get("/v1/health", _health)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(os.environ["APP_HTTP_PORT"])).start()
    report_dir = os.environ.get("FAKE_REPORT_DIR")
    if report_dir:
        app_env = {k: v for k, v in os.environ.items() if k.startswith("APP_")}
        report = Path(report_dir) / f"{name}.json"
        report.with_suffix(".tmp").write_text(json.dumps({"pid": os.getpid(), "env": app_env}))
        report.with_suffix(".tmp").rename(report)
    await stop.wait()
    if runner is not None:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
