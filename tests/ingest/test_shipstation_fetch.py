"""ShipStation V1 notifications end to end: gateway → ``shipstation.notified`` → ingest
fetches every page from a local fake ShipStation (Basic auth, 429 waited out, voided and
unknown-store shipments skipped) → one ``order.shipped`` per shipment, exactly once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relay_cli.bus_watch import collect, nats_client
from relay_cli.stack import StackEndpoints
from relay_ingest.app import create_app as create_ingest
from relay_ingest.settings import IngestSettings
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import (
    SECRET_KEY,
    STREAM,
    Gateway,
    auth,
    create_tenant,
    eventually,
    feed_config,
    stream_events,
)
from tests.support.fake_shipstation import PII, FakeShipstation, serving, shipment
from tests.support.running import running

pytestmark = pytest.mark.stack
API_KEY, API_SECRET = "ss-key-1", "ss-secret-1"
STORES = {"1001": "amazon", "1002": "ebay"}
LOCAL_HOSTS = r"^127\.0\.0\.1$"


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeShipstation]:
    async with serving(FakeShipstation(API_KEY, API_SECRET)) as server:
        yield server


@pytest.fixture(scope="module")
async def v1_gateway(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with serving_gateway(
        isolated_bus,
        tmp_path_factory.mktemp("gateway"),
        shipstation_hosts=LOCAL_HOSTS,
        shipstation_allow_http=True,
    ) as served:
        yield served


def ingest_settings(stack: StackEndpoints, state_dir: Path) -> IngestSettings:
    """Ingest's settings as a process reads them (``APP_SHIPSTATION_*`` from the env)."""
    environ = {
        **stack.as_env(),
        "APP_STATE_DIR": str(state_dir),
        "APP_SECRET_KEY": SECRET_KEY,
        "APP_SHIPSTATION_HOSTS": LOCAL_HOSTS,
        "APP_SHIPSTATION_ALLOW_HTTP": "1",
        "APP_RETRY_BASE_DELAY_S": "0.2",
    }
    return IngestSettings.from_env(environ)


@pytest.fixture(scope="module")
async def ingest(
    isolated_bus: StackEndpoints,
    v1_gateway: Gateway,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[None]:
    app = create_ingest(ingest_settings(isolated_bus, tmp_path_factory.mktemp("ingest")))
    async with running([app]):
        yield


async def _tenant(gateway: Gateway, tenant_id: str) -> None:
    owner = await create_tenant(gateway, tenant_id)
    config = feed_config(tenant_id)
    config["shipstation"] = {
        "webhook_token": f"tok-{tenant_id}",
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "store_channels": STORES,
    }
    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner)
    )
    assert response.status == 201, await response.text()


async def _notify(gateway: Gateway, tenant_id: str, resource_url: str) -> int:
    body = {"resource_url": resource_url, "resource_type": "SHIP_NOTIFY"}
    response = await gateway.client.post(
        f"/v1/webhooks/shipstation?tenant={tenant_id}&token=tok-{tenant_id}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Correlation-ID": f"c-{tenant_id}"},
    )
    return response.status


def _batch(base: int) -> list[list[dict[str, Any]]]:
    return [
        [
            shipment(base + 1, 1001, [("SKU-1", 2), ("SKU-1", 1)]),
            shipment(base + 2, 1002, [("SKU-2", 1)], create_date="2026-07-01T10:30:00.0000000"),
        ],
        [shipment(base + 3, 1001, [("SKU-9", 5)], voided=True), shipment(base + 4, 1001, [])],
        [shipment(base + 5, 9999, [("SKU-7", 1)]), shipment(base + 6, 1002, [("SKU-4", 4)])],
    ]


def _expected(tenant_id: str, base: int) -> list[dict[str, Any]]:
    def event(offset: int, channel: str, items: list[dict[str, Any]], at: str) -> dict[str, Any]:
        sid = base + offset
        return {
            "schema_version": 1,
            "event_id": f"order.shipped:shipstation:{tenant_id}:{sid}",
            "occurred_at": at,
            "tenant_id": tenant_id,
            "correlation_id": f"c-{tenant_id}",
            "order_id": f"ORD-{sid}",
            "channel": channel,
            "status": "shipped",
            "ordered_at": None,
            "shipped_at": at,
            "items": items,
            "source": "shipstation_api",
        }

    winter, summer = "2026-03-02T16:00:00.123000Z", "2026-07-01T17:30:00Z"
    return [
        event(1, "amazon", [{"sku": "SKU-1", "quantity": 3}], winter),
        event(2, "ebay", [{"sku": "SKU-2", "quantity": 1}], summer),
        event(6, "ebay", [{"sku": "SKU-4", "quantity": 4}], winter),
    ]


async def _shipped(nats_url: str, tenant_id: str, count: int) -> list[dict[str, Any]]:
    mine: list[dict[str, Any]] = []

    def enough(event: dict[str, Any]) -> bool:
        if event["tenant_id"] == tenant_id:
            mine.append(event)
        return len(mine) >= count

    async with nats_client(nats_url) as client:
        await collect(client, STREAM, "order.shipped", until=enough, timeout=30.0)
    return sorted(mine, key=lambda e: str(e["event_id"]))


async def _notifications_drained(nats_url: str) -> bool | None:
    async with nats_client(nats_url) as client:
        info = await client.jetstream().consumer_info(STREAM, "ingest-shipstation-notified")
    return True if info.num_pending == 0 and info.num_ack_pending == 0 else None


@pytest.mark.usefixtures("ingest")
async def test_each_shipment_becomes_one_order_shipped(
    v1_gateway: Gateway, fake: FakeShipstation, isolated_bus: StackEndpoints, unique_id: str
) -> None:
    tenant_id, batch, base = f"t-{unique_id}", f"b-{unique_id}", int(unique_id[:7], 16) * 10
    await _tenant(v1_gateway, tenant_id)
    fake.batches[batch] = _batch(base)
    fake.answer_once[(batch, 2)] = 429

    status = await _notify(v1_gateway, tenant_id, fake.url(batch))
    events = await _shipped(isolated_bus.nats_url, tenant_id, 3)
    seen = fake.requests_for(batch)

    assert status == 202
    assert events == _expected(tenant_id, base)
    assert [(s.page, s.status) for s in seen] == [(1, 200), (2, 429), (2, 200), (3, 200)]
    assert {(s.include_items, s.authorized) for s in seen} == {("True", True)}
    assert seen[2].at - seen[1].at >= fake.reset_s
    assert [word for word in PII if word.lower() in json.dumps(events).lower()] == []


@pytest.mark.usefixtures("ingest")
async def test_a_resent_notification_emits_nothing_twice(
    v1_gateway: Gateway, fake: FakeShipstation, isolated_bus: StackEndpoints, unique_id: str
) -> None:
    tenant_id, batch, base = f"t-{unique_id}", f"b-{unique_id}", int(unique_id[:7], 16) * 10
    await _tenant(v1_gateway, tenant_id)
    fake.batches[batch] = _batch(base)

    first = await _notify(v1_gateway, tenant_id, fake.url(batch))
    await _shipped(isolated_bus.nats_url, tenant_id, 3)
    same = await _notify(v1_gateway, tenant_id, fake.url(batch))
    resent = await _notify(v1_gateway, tenant_id, fake.url(batch, "&resent=1"))
    await eventually(lambda: _fetched_twice(fake, batch), deadline_s=30.0)
    await eventually(lambda: _notifications_drained(isolated_bus.nats_url), deadline_s=30.0)
    events = await _shipped(isolated_bus.nats_url, tenant_id, 3)
    rows = await _ledger(isolated_bus.database_url, tenant_id)

    assert (first, same, resent) == (202, 200, 202)
    assert events == _expected(tenant_id, base)
    everything = await stream_events(isolated_bus.nats_url, "order.shipped")
    assert len([e for e in everything if e["tenant_id"] == tenant_id]) == 3
    assert rows == [
        (str(base + 1), f"ORD-{base + 1}", "1001", "emit", True),
        (str(base + 2), f"ORD-{base + 2}", "1002", "emit", True),
        (str(base + 3), f"ORD-{base + 3}", "1001", "voided", False),
        (str(base + 4), f"ORD-{base + 4}", "1001", "no_items", False),
        (str(base + 5), f"ORD-{base + 5}", "9999", "unknown_store", False),
        (str(base + 6), f"ORD-{base + 6}", "1002", "emit", True),
    ]


async def _fetched_twice(fake: FakeShipstation, batch: str) -> bool | None:
    pages = [s.page for s in fake.requests_for(batch) if s.status == 200]
    return True if pages.count(3) == 2 else None


async def _ledger(database_url: str, tenant_id: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT * FROM ingest.shipstation_shipments WHERE tenant_id = $1 ORDER BY shipment_id",
            tenant_id,
        )
    finally:
        await conn.close()
    text = repr([dict(row) for row in rows]).lower()
    assert [word for word in PII if word.lower() in text] == []
    columns = ("shipment_id", "order_id", "store_id", "outcome")
    return [(*(row[c] for c in columns), row["announced_at"] is not None) for row in rows]
