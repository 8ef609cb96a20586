"""Every service as its own process (``relay serve``) on the real stack, behind the gateway."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import ServiceProcesses, StackEndpoints, free_port, wait_for_http_ok


@dataclass(frozen=True)
class LiveSystem:
    gateway_url: str
    endpoints: StackEndpoints
    state_dir: Path
    admin_key: str
    webhook_secret: str
    services: ServiceProcesses


@pytest.fixture(scope="module")
def live_system(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSystem]:
    state_dir = tmp_path_factory.mktemp("live")
    admin_key = "rk_e2e_admin_" + secrets.token_hex(8)
    webhook_secret = secrets.token_hex(16)
    env = {
        **os.environ,
        "APP_BOOTSTRAP_ADMIN_KEY": admin_key,
        "APP_SECRET_KEY": secrets.token_hex(32),
        "APP_WEBHOOK_SECRETS": f"old-rotated-secret,{webhook_secret}",
    }
    port = free_port()
    with ServiceProcesses.for_stack(
        isolated_bus, state_dir, http_port=port, parent_env=env
    ) as services:
        services.start_all()
        url = f"http://127.0.0.1:{port}"
        wait_for_http_ok(f"{url}/v1/ready", timeout=90.0)
        yield LiveSystem(url, isolated_bus, state_dir, admin_key, webhook_secret, services)
        assert services.unexpected_exits() == {}


@pytest.fixture
async def admin(live_system: LiveSystem) -> AsyncIterator[GatewayClient]:
    async with aiohttp.ClientSession() as session:
        yield GatewayClient(session, live_system.gateway_url, live_system.admin_key)
