"""Prometheus for an aiohttp application: a request-timing middleware and a ``/metrics``
handler (the gateway's; workers serve theirs on the operations port,
:mod:`relay_shared.health`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from relay_shared.metrics import CONTENT_TYPE, GatewayMetrics, ServiceMetrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The route label of a request that matched no route (so random paths cannot grow the
#: label set).
UNMATCHED = "unmatched"


def route_template(request: web.Request) -> str:
    """The matched route's template (``/v1/runs/{run_id}``), never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def http_metrics_middleware(metrics: GatewayMetrics) -> Middleware:
    """Time every request into ``relay_http_request_duration_seconds{route,method,status}``;
    place it outside the error middleware so the status is the one answered."""

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.http_duration.labels(
                route_template(request), request.method, str(status)
            ).observe(time.perf_counter() - started)

    return timed


#: ``GET /metrics`` as an OpenAPI path item (added to the gateway's document).
METRICS_PATH_ITEM = {
    "get": {
        "operationId": "getMetrics",
        "summary": "Prometheus metrics (text exposition format); no authentication",
        "tags": ["operations"],
        "responses": {
            "200": {
                "description": "every metric of the gateway",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    }
}


def metrics_handler(metrics: ServiceMetrics) -> Handler:
    """``GET /metrics``: the Prometheus text."""

    async def serve_metrics(_request: web.Request) -> web.Response:
        body = await metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return serve_metrics
