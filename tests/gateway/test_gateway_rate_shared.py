"""The webhook rate limit (100 events/s per tenant) is shared by gateway replicas: two
gateway processes on one NATS together accept 100 events of a second, not 100 each."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import ServiceProcesses, StackEndpoints, free_port, wait_for_http_ok
from tests.gateway.harness import ADMIN_KEY, SECRET_KEY, WEBHOOK_SECRETS, stream_events

pytestmark = pytest.mark.stack
LIMIT = 100
BURST = 150
ATTEMPTS = 3


@dataclass(frozen=True)
class Answer:
    replica: int
    status: int
    retry_after: str | None


@pytest.fixture(scope="module")
def two_gateways(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Two gateway processes (``relay serve gateway``) on the same NATS, Postgres and S3."""
    env = {
        **os.environ,
        "APP_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "APP_SECRET_KEY": SECRET_KEY,
        "APP_WEBHOOK_SECRETS": WEBHOOK_SECRETS[0],
    }
    urls: list[str] = []
    replicas: list[ServiceProcesses] = []
    try:
        for index in range(2):
            state_dir: Path = tmp_path_factory.mktemp(f"replica{index}")
            port = free_port()
            replica = ServiceProcesses.for_stack(
                isolated_bus, state_dir, http_port=port, parent_env=env
            )
            replicas.append(replica)
            replica.start("gateway")
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_for_http_ok(f"{url}/v1/ready", timeout=60.0)
        yield urls
        assert [replica.unexpected_exits() for replica in replicas] == [{}, {}]
    finally:
        for replica in replicas:
            replica.stop_all()


def _order(tenant_id: str, event_id: str) -> bytes:
    body = {
        "event_id": event_id,
        "event_type": "order.shipped",
        "timestamp": datetime.now(UTC).isoformat(),
        "tenant_id": tenant_id,
        "order": {
            "order_id": event_id,
            "channel": "amazon",
            "status": "shipped",
            "shipped_at": "2026-11-22T09:55:00Z",
            "items": [{"sku": "SKU-1", "quantity": 1}],
        },
    }
    return json.dumps(body).encode()


async def _burst(clients: list[GatewayClient], tenant_id: str) -> list[Answer] | None:
    """``BURST`` events spread over both replicas inside one wall-clock second (the limit's
    window); None when the burst did not fit in one second."""
    await asyncio.sleep(1.02 - time.time() % 1)  # start just after a second begins
    started = int(time.time())

    async def send(index: int) -> Answer:
        replica = index % 2
        body = _order(tenant_id, f"evt-{index}")
        answer = await clients[replica].post_shipstation(
            body, WEBHOOK_SECRETS[0], expect=(202, 429)
        )
        return Answer(replica, answer.status, answer.headers.get("Retry-After"))

    answers = await asyncio.gather(*(send(index) for index in range(BURST)))
    return list(answers) if int(time.time()) == started else None


async def test_two_replicas_share_the_limit(
    two_gateways: list[str], isolated_bus: StackEndpoints
) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        admin = GatewayClient(session, two_gateways[0], ADMIN_KEY)
        clients = [GatewayClient(session, url, "") for url in two_gateways]
        answers = None
        for _ in range(ATTEMPTS):
            tenant_id = f"rate-{uuid.uuid4().hex[:10]}"
            await admin.create_tenant(tenant_id, "Rate", ["amazon"])
            answers = await _burst(clients, tenant_id)
            if answers is not None:
                break
    assert answers is not None, "no burst fitted in one second"
    accepted = [a for a in answers if a.status == 202]
    refused = [a for a in answers if a.status == 429]
    shipped = [
        event
        for event in await stream_events(isolated_bus.nats_url, "order.shipped")
        if event["tenant_id"] == tenant_id
    ]

    assert (len(accepted), len(refused)) == (LIMIT, BURST - LIMIT)
    assert {a.replica for a in accepted} == {0, 1}
    assert {a.retry_after for a in refused} == {"1"}
    assert len({event["event_id"] for event in shipped}) == LIMIT
