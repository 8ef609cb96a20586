"""A tenant's channels are one truth (issue 11, item 1), through the whole system: a tenant
created with ``["amazon", "ebay", "woot"]`` whose config has no ``channels:`` section gets every
sku on every channel (the default section: allocation 100 %, buffer 0) once its feed run is
merged, and an ``out_of_stock`` insight when a shipped order takes a sku's last unit there.
Every service is a real process behind the gateway."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from tests.e2e.channels_reading import products
from tests.e2e.test_end_to_end import EXAMPLES, EXPECTED_ROWS, FEEDS, example_config
from tests.support.live_system import LiveSystem, live_system_on
from tests.support.polling import eventually_async

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
CHANNELS = ["amazon", "ebay", "woot"]
WAIT_S = 60.0


@pytest.fixture(scope="module")
def system(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSystem]:
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("default-channels")) as live:
        yield live


@pytest.fixture
async def db(system: LiveSystem) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(system.endpoints.database_url)
    try:
        yield conn
    finally:
        await conn.close()


def config_without_channels(tenant: str) -> str:
    """The example tenant's config with its ``channels:`` section (and comment) cut out."""
    text = example_config(tenant)
    cut = re.sub(r"# Sales channels.*?\n(?=insights:)", "", text, flags=re.DOTALL)
    assert "channels:" not in cut
    assert "insights:" in cut
    return cut


def last_units_order(tenant: str, quantity: int) -> bytes:
    order: dict[str, Any] = json.loads((EXAMPLES / "shipstation_order.json").read_text())
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    order.update(tenant_id=tenant, event_id=f"evt_{tenant}", timestamp=now)
    order["order"]["items"] = [{"sku": "BAT-5001", "quantity": quantity}]
    return json.dumps(order).encode()


async def until_products(
    db: asyncpg.Connection, tenant: str, expected: dict[tuple[str, str], tuple[Any, ...]]
) -> None:
    async def matching() -> bool | None:
        return True if await products(db, tenant) == expected else None

    await eventually_async(matching, timeout=WAIT_S, what="insights' products")


async def open_insights(owner: GatewayClient, tenant: str) -> list[tuple[str, ...]] | None:
    body = (await owner.request("GET", f"/v1/tenants/{tenant}/insights?status=open")).body
    found = [(i["channel"], i["sku"], i["kind"], i["status"]) for i in body["insights"]]
    return sorted(found) or None


@pytest.mark.timeout(300)
async def test_channels_without_a_section_get_products_and_out_of_stock(
    system: LiveSystem, db: asyncpg.Connection
) -> None:
    tenant = f"dflt_{uuid.uuid4().hex[:10]}"
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, system.gateway_url, system.admin_key)
        owner = admin.as_key(await admin.create_tenant(tenant, "Acme", CHANNELS))
        assert await owner.put_config(tenant, config_without_channels(tenant)) == 1
        sku_map = (EXAMPLES / "sku_map_vendor_1.csv").read_bytes()
        await owner.put_sku_map(tenant, "vendor_1", sku_map)
        for vendor_id, (name, content_type) in FEEDS.items():
            body = (EXAMPLES / "feeds" / name).read_bytes()
            await owner.upload_feed(tenant, vendor_id, body, content_type)
        run = await owner.wait_for_run((await owner.start_run(tenant))["run_id"])
        assert run["status"] == "SUCCEEDED"

        stocked = {
            (channel, sku): (int(quantity), "active")
            for channel in CHANNELS
            for sku, quantity, _price, _vendor in EXPECTED_ROWS
        }
        await until_products(db, tenant, stocked)
        assert stocked[("amazon", "BAT-5001")] == (6, "active")

        order = last_units_order(tenant, 6)
        await admin.post_shipstation(order, system.webhook_secret, expect=(202,))
        insights = await eventually_async(
            lambda: open_insights(owner, tenant), timeout=WAIT_S, what="the out_of_stock insight"
        )
    assert insights == [("amazon", "BAT-5001", "out_of_stock", "open")]
    await until_products(db, tenant, {**stocked, ("amazon", "BAT-5001"): (0, "active")})
