"""A worker's operations port (``APP_METRICS_PORT``): ``/metrics``, ``/healthz``, ``/readyz``.

- ``/healthz``: 200 while the process serves requests (the liveness probe);
- ``/readyz``: 200 when each check passes (its NATS consumers exist, Postgres answers
  ``SELECT 1``, the bucket is reachable), else 503 with ``{"ready": false, "checks": {...}}``
  naming the failing ones (the readiness probe);
- ``/metrics``: the service's Prometheus text (:mod:`relay_shared.metrics`).

Checks are registered as they become possible: :func:`relay_shared.runtime.open_resources`
adds Postgres and S3 when it opens them, :func:`relay_shared.runtime.run_worker` the consumers
once they started. Until then ``/readyz`` answers 503 ``starting``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

import structlog
from aiohttp import web
from aiohttp.web_app import Application

from relay_shared.metrics import CONTENT_TYPE, ServiceMetrics

log = structlog.get_logger(__name__)
Check = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_S = 3.0


class ReadinessChecks:
    """Named checks; ready when there is at least one and every one passes."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self.started = False

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def remove(self, name: str) -> None:
        self._checks.pop(name, None)

    async def results(self) -> dict[str, str]:
        """``"ok"`` or the failure, per check. The checks and ``started`` are read together
        before any check runs: a check added while others are awaited (the consumers' once
        the broker started) waits for the next probe instead of being skipped in a 200."""
        results: dict[str, str] = {}
        started, checks = self.started, list(self._checks.items())
        for name, check in checks:
            try:
                await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - any failure means not ready, named
                results[name] = f"failed: {exc!r}"
            else:
                results[name] = "ok"
        if not started:
            results["service"] = "starting"
        return results


#: The readiness of the worker running in this task (set by ``run_worker``), so that
#: ``open_resources`` can register its pool and bucket without every service passing it on.
CURRENT_READINESS: ContextVar[ReadinessChecks | None] = ContextVar("relay_readiness", default=None)


def operations_app(metrics: ServiceMetrics, readiness: ReadinessChecks) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        results = await readiness.results()
        ready = all(value == "ok" for value in results.values())
        return web.json_response({"ready": ready, "checks": results}, status=200 if ready else 503)

    async def metrics_text(_request: web.Request) -> web.Response:
        body = await metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    # aiohttp's own class, not ``web.Application`` (which the OpenTelemetry aiohttp-server
    # instrumentation replaces): a probe or a scrape every few seconds is not worth a trace.
    app = Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_text)
    return app


@asynccontextmanager
async def serving_operations(
    metrics: ServiceMetrics, readiness: ReadinessChecks, host: str, port: int
) -> AsyncIterator[None]:
    """Serve the operations port while the block runs (port 0: not served)."""
    if not port:
        yield
        return
    runner = web.AppRunner(operations_app(metrics, readiness), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("operations.listening", port=port)
        yield
    finally:
        await runner.cleanup()
