"""Liveness, readiness (NATS, Postgres, S3) and the OpenAPI document."""

from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError
from nats.errors import Error as NatsError

from relay_gateway.http.access import Call
from relay_gateway.http.api_models import Health, Readiness
from relay_gateway.http.context import GatewayContext
from relay_gateway.http.errors import DependencyUnavailableError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Auth, Route

CHECK_TIMEOUT_S = 2
PROBE_FAILURES = (
    OSError,
    TimeoutError,
    BotoCoreError,
    ClientError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    NatsError,
)
OPENAPI_KEY = web.AppKey("openapi_document", dict)


async def health(_call: Call) -> web.Response:
    return respond(Health(status="ok"))


async def _nats_ok(context: GatewayContext) -> bool:
    if not context.nats.is_connected:
        return False
    await context.nats.flush(timeout=CHECK_TIMEOUT_S)
    return True


async def _postgres_ok(context: GatewayContext) -> bool:
    await context.tenants.ping()
    return True


async def _s3_ok(context: GatewayContext) -> bool:
    await context.store.ping()
    return True


async def _check(probe: asyncio.Future[bool] | asyncio.Task[bool]) -> str:
    try:
        ok = await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
    except PROBE_FAILURES as exc:
        return f"down: {type(exc).__name__}"
    return "ok" if ok else "down: disconnected"


async def ready(call: Call) -> web.Response:
    context = call.context
    probes = {
        "nats": asyncio.ensure_future(_nats_ok(context)),
        "postgres": asyncio.ensure_future(_postgres_ok(context)),
        "s3": asyncio.ensure_future(_s3_ok(context)),
    }
    checks = {name: await _check(probe) for name, probe in probes.items()}
    down = sorted(name for name, result in checks.items() if result != "ok")
    if down:
        raise DependencyUnavailableError(
            f"not ready: {', '.join(down)} down", details={"down": down, "checks": checks}
        )
    return respond(Readiness(status="ok", checks=checks))


async def openapi(call: Call) -> web.Response:
    return web.json_response(call.request.app[OPENAPI_KEY])


ROUTES = [
    Route(
        method="GET",
        path="/v1/health",
        handler=health,
        summary="Liveness",
        role=Auth.ANYONE,
        ok=200,
        returns=Health,
    ),
    Route(
        method="GET",
        path="/v1/ready",
        handler=ready,
        summary="Readiness of NATS, Postgres and S3",
        role=Auth.ANYONE,
        ok=200,
        returns=Readiness,
    ),
    Route(
        method="GET",
        path="/v1/openapi.json",
        handler=openapi,
        summary="This document",
        role=Auth.ANYONE,
        ok=200,
    ),
]
