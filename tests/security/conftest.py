"""The security suite: hostile input against the whole system, every service as its own
process on the real stack (one system per test module), as an attacker with an ordinary
tenant owner key would send it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from tests.support.live_system import LiveSystem, live_system_on


@pytest.fixture(scope="module")
def live_system(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSystem]:
    env = {"APP_BODY_READ_TIMEOUT_S": "2"}
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("security"), env) as system:
        yield system


@pytest.fixture
async def admin(live_system: LiveSystem) -> AsyncIterator[GatewayClient]:
    async with aiohttp.ClientSession() as session:
        yield GatewayClient(session, live_system.gateway_url, live_system.admin_key)
