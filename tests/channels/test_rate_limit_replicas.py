"""Amazon's rate (5 requests/s, burst 10 per selling partner) holds across replicas: two
``relay serve channels`` processes on one stream and one schema share the seller's bucket (a
row of ``channels.rate_buckets``), so 40 pauses handled by both reach the fake Amazon, which
answers 429 above the documented rate, as 40 PATCHes none of which is refused, no more than
the rate allows in any second, and spread as one bucket must spread them (two buckets of
their own would have sent them in about a third of the time and been throttled)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from relay_cli.stack import ServiceProcesses, StackEndpoints, free_port, wait_for_http_ok
from relay_cli.stack.environment import service_env
from relay_cli.stack.processes import serve_command
from relay_shared.storage import ObjectStore
from tests.channels.harness import (
    SECRET_KEY,
    Service,
    acted,
    channel_sections,
    insight,
    start_tenant,
)
from tests.support.fake_marketplaces import Marketplaces, fake_marketplaces
from tests.support.jetstream import delete_streams, nats_client, publish, wait_for_stream
from tests.telemetry.scraping import scrape

pytestmark = pytest.mark.stack

REPLICAS = ("channels-a", "channels-b")
ACTIONS = 40
RATE, BURST = 5.0, 10


def most_within(times: list[float], window: float) -> int:
    """The largest number of ``times`` inside one span ``[t, t + window)``."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.fixture
async def replicas(
    isolated_bus: StackEndpoints, object_store: ObjectStore, tmp_path: Path
) -> AsyncIterator[tuple[Service, dict[str, int]]]:
    stream = f"RATE_{uuid.uuid4().hex[:8].upper()}"
    ports = {name: free_port() for name in REPLICAS}
    async with fake_marketplaces() as fakes, nats_client(isolated_bus.nats_url) as client:
        with _processes(isolated_bus, fakes, stream, ports, tmp_path) as processes:
            for name in REPLICAS:
                processes.start(name)
            for port in ports.values():
                wait_for_http_ok(f"http://127.0.0.1:{port}/readyz", timeout=60.0)
            await wait_for_stream(client, stream)
            db = await asyncpg.connect(
                isolated_bus.database_url, server_settings={"search_path": "channels"}
            )
            try:
                yield Service(client, db, stream, fakes, object_store), ports
                assert processes.unexpected_exits() == {}
            finally:
                await db.close()
                processes.stop_all()
                await delete_streams(client, stream)


def _processes(
    endpoints: StackEndpoints,
    fakes: Marketplaces,
    stream: str,
    ports: dict[str, int],
    state_dir: Path,
) -> ServiceProcesses:
    parent = {
        **os.environ,
        **fakes.env(),
        "APP_NATS_STREAM": stream,
        "APP_SECRET_KEY": SECRET_KEY,
        "APP_CHANNELS_WORKERS": "8",
        "APP_OUTBOX_INTERVAL_S": "0.2",
    }

    def env_for(name: str) -> dict[str, str]:
        env = service_env("channels", endpoints, state_dir=state_dir, parent_env=parent)
        env["APP_METRICS_PORT"] = str(ports[name])
        return env

    return ServiceProcesses(
        env_for, state_dir / "logs", command=lambda _name: serve_command("channels")
    )


async def test_two_replicas_keep_one_sellers_rate_together(
    replicas: tuple[Service, dict[str, int]],
) -> None:
    service, ports = replicas
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    skus = [f"Q{n:02d}{tenant[2:]}" for n in range(ACTIONS)]
    rows = [f"{sku},0,20.00," for sku in skus]
    await start_tenant(service, tenant, channel_sections(tenant, dry_run=False), rows)

    for sku in skus:
        await publish(service.client, service.stream, insight(tenant, "amazon", sku))
    found = await acted(service, tenant, ACTIONS, timeout=90.0)

    amazon = service.fakes.amazon
    assert sorted((e["sku"], e["outcome"]) for e in found) == [(s, "succeeded") for s in skus]
    assert amazon.throttled == 0
    patches = amazon.calls("PATCH")
    assert sorted(r.path.rsplit("/", 1)[-1] for r in patches) == skus
    arrivals = [r.at for r in patches]
    print(f"\nPATCHes per wall-clock second: {sorted(amazon.per_second.values())}")
    assert most_within(arrivals, 1.0) <= BURST + RATE
    # one bucket (burst 9 kept, 5/s): the 31 after the burst need 6.2 s at least
    assert max(arrivals) - min(arrivals) >= (ACTIONS - (BURST - 1)) / RATE - 0.2
    sent = {
        name: (await scrape(f"http://127.0.0.1:{port}")).value(
            "relay_marketplace_calls_total",
            channel="amazon",
            operation="listings_patch",
            outcome="ok",
        )
        for name, port in ports.items()
    }
    assert sum(sent.values()) == ACTIONS
    assert all(count >= 1 for count in sent.values()), sent
