"""Every service as its own process, exporting traces to an in-process OTLP receiver and
serving its operations port (``APP_METRICS_PORT``: the base the test picks, plus each worker's
place in the service list, as ``relay up`` gives them)."""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.services import SERVICES
from relay_cli.stack import StackEndpoints
from tests.support.live_system import LiveSystem, live_system_on
from tests.telemetry.otlp_receiver import OtlpReceiver, otlp_receiver


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def consecutive_free_ports(count: int) -> int:
    """A base port such that it and the ``count - 1`` after it are free (below the
    ephemeral range, so the kernel does not hand them out meanwhile)."""
    for _ in range(200):
        base = random.randrange(20_000, 30_000)
        if all(_bindable(base + offset) for offset in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found")


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as collected:
        yield collected


@pytest.fixture(scope="module")
def metrics_base() -> int:
    return consecutive_free_ports(len(SERVICES))


@pytest.fixture(scope="module")
def observed_system(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    receiver: OtlpReceiver,
    metrics_base: int,
) -> Iterator[LiveSystem]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "APP_METRICS_PORT": str(metrics_base),
    }
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("observed"), env) as system:
        yield system


@pytest.fixture
async def admin(observed_system: LiveSystem) -> AsyncIterator[GatewayClient]:
    async with aiohttp.ClientSession() as session:
        yield GatewayClient(session, observed_system.gateway_url, observed_system.admin_key)


def metrics_url(metrics_base: int, service: str) -> str:
    """Where worker ``service``'s operations port is (the gateway serves ``/metrics`` on its
    HTTP port instead)."""
    return f"http://127.0.0.1:{metrics_base + SERVICES.index(service)}"
