"""Health, readiness, correlation ids and the error shape."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import aiohttp
import pytest

from relay_cli.stack import StackEndpoints, free_port
from relay_gateway.app import create_app, serve
from tests.gateway.conftest import gateway_settings
from tests.gateway.harness import Gateway, eventually

pytestmark = pytest.mark.stack


async def test_health_is_ok_and_echoes_the_correlation_id(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/health", headers={"X-Correlation-ID": "corr-123"})

    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert response.headers["X-Correlation-ID"] == "corr-123"


async def test_a_correlation_id_is_made_when_none_is_given(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/health")

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Correlation-ID"])


async def test_ready_checks_every_dependency(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/ready")

    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "checks": {"nats": "ok", "postgres": "ok", "s3": "ok"},
    }


async def test_an_unknown_route_has_the_error_shape(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/nope", headers={"X-Correlation-ID": "c-1"})

    assert response.status == 404
    assert await response.json() == {
        "error": {"code": "not_found", "message": "Not Found", "details": {}}
    }
    assert response.headers["X-Correlation-ID"] == "c-1"


async def test_a_wrong_method_is_405_with_the_error_shape(gateway: Gateway) -> None:
    response = await gateway.client.delete("/v1/health")

    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_serve_listens_on_the_http_port_until_cancelled(
    stack: StackEndpoints, tmp_path: Path
) -> None:
    port = free_port()
    app = create_app(gateway_settings(stack, tmp_path, http_host="127.0.0.1", http_port=port))
    task = asyncio.create_task(serve(app))

    async def healthy() -> int | None:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/v1/health") as response,
            ):
                return response.status
        except aiohttp.ClientConnectionError:
            return None

    try:
        assert await eventually(healthy) == 200
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await healthy() is None
