"""Secrets never leave their seal: a tenant configured with real (fake) Amazon and eBay
credentials and its ShipStation webhook token and V1 API key and secret, a feed run, a signed
ShipStation order and a ShipStation notification (fetched with the V1 key) that empty a
channel on Amazon and on eBay, both acting for real against the local fake marketplaces. Then
every line every service wrote, every message on the bus and every API answer the tenant gets
is scanned: none holds a credential, an access token, the webhook secret or the secret key."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from nats.js.errors import NotFoundError

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from tests.e2e import channels_reading as read
from tests.e2e.channels_scenario import (
    CHANNELS,
    FEED,
    SS_KEY,
    SS_SECRET,
    SS_TOKEN,
    STORES,
    VENDOR,
    config_yaml,
)
from tests.insights.daily_support import TravelClock
from tests.support.fake_marketplaces import (
    AMAZON_CREDENTIALS,
    AMAZON_TOKEN,
    EBAY_CREDENTIALS,
    EBAY_TOKEN,
    Marketplaces,
    fake_marketplaces,
)
from tests.support.fake_shipstation import FakeShipstation, serving, shipment
from tests.support.jetstream import nats_client
from tests.support.live_system import LiveSystem, live_system_on, travelling_env

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
#: the services' sealing key (APP_SECRET_KEY), fresh for the module
SECRET_KEY = secrets.token_hex(32)


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[Marketplaces]:
    async with fake_marketplaces() as running:
        yield running


@pytest.fixture(scope="module")
async def shipstation() -> AsyncIterator[FakeShipstation]:
    async with serving(FakeShipstation(SS_KEY, SS_SECRET)) as fake:
        yield fake


@pytest.fixture(scope="module")
def system(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    fakes: Marketplaces,
) -> Iterator[LiveSystem]:
    clock = TravelClock(tmp_path_factory.mktemp("clock") / "offset")
    env = {
        **travelling_env(clock.path, fakes.env()),
        "APP_LOG_LEVEL": "DEBUG",
        "APP_SECRET_KEY": SECRET_KEY,
    }
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("sealed"), env) as live:
        yield live


def secrets_of(system: LiveSystem) -> dict[str, str]:
    """Every secret value the system was given or handed out, by what it is."""
    basic = base64.b64encode(
        f"{EBAY_CREDENTIALS['client_id']}:{EBAY_CREDENTIALS['client_secret']}".encode()
    ).decode()
    shipstation_basic = base64.b64encode(f"{SS_KEY}:{SS_SECRET}".encode()).decode()
    return {
        "amazon lwa_client_secret": AMAZON_CREDENTIALS["lwa_client_secret"],
        "amazon refresh_token": AMAZON_CREDENTIALS["refresh_token"],
        "amazon access token": AMAZON_TOKEN,
        "ebay client_secret": EBAY_CREDENTIALS["client_secret"],
        "ebay refresh_token": EBAY_CREDENTIALS["refresh_token"],
        "ebay access token": EBAY_TOKEN,
        "ebay basic auth": basic,
        "shipstation api_key": SS_KEY,
        "shipstation api_secret": SS_SECRET,
        "shipstation basic auth": shipstation_basic,
        "shipstation webhook_token": SS_TOKEN,
        "webhook secret": system.webhook_secret,
        "admin key": system.admin_key,
        "APP_SECRET_KEY": SECRET_KEY,
    }


def leaks(texts: dict[str, str], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(where, which secret) for every secret value found in a text."""
    return [
        (where, what)
        for where, text in texts.items()
        for what, value in secrets.items()
        if value in text
    ]


async def act_for_real(
    admin: GatewayClient, system: LiveSystem, shipstation: FakeShipstation, tenant: str
) -> dict[str, str]:
    """The tenant live on every channel, a run, Amazon's kettles sold (the signed webhook) and
    eBay's mugs sold (ShipStation's API); every API answer the tenant got, as text."""
    answers: dict[str, str] = {}
    new = {"tenant_id": tenant, "name": "Shop", "channels": CHANNELS}
    created = await admin.request("POST", "/v1/tenants", json_body=new, expect=(201,))
    owner = admin.as_key(created.body["api_key"])
    configured = await owner.request(
        "PUT", f"/v1/tenants/{tenant}/config", data=config_yaml(tenant, live=True).encode(),
        headers={"Content-Type": "application/yaml"}, expect=(201,),
    )  # fmt: skip
    answers["PUT config"] = json.dumps(configured.body)
    uploaded = await owner.upload_feed(tenant, VENDOR, FEED, "text/csv")
    answers["PUT feed"] = json.dumps(uploaded)
    queued = await owner.start_run(tenant)
    run = await owner.wait_for_run(queued["run_id"])
    assert run["status"] == "SUCCEEDED"
    # an order of a sku insights has not taken from a feed yet would be an unknown sku
    db = await asyncpg.connect(system.endpoints.database_url)
    try:
        await read.until_insights_applied(db, tenant, run["run_id"])
    finally:
        await db.close()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    order = {
        "event_id": f"evt-{tenant}", "event_type": "order.shipped", "tenant_id": tenant,
        "timestamp": now,
        "order": {"order_id": "A-KTL-1", "channel": "amazon", "status": "shipped",
                  "shipped_at": now,
                  "items": [{"sku": "KTL-100", "quantity": 3}]},
    }  # fmt: skip
    signed = await admin.post_shipstation(
        json.dumps(order).encode(), system.webhook_secret, expect=(202,)
    )
    answers["POST signed webhook"] = json.dumps(signed.body)
    batch = f"b-{tenant}"
    shipstation.batches[batch] = [[shipment(7001, STORES["ebay"], [("MUG-200", 19)])]]
    async with aiohttp.ClientSession() as session:
        url = f"{system.gateway_url}/v1/webhooks/shipstation?tenant={tenant}&token={SS_TOKEN}"
        body = {"resource_url": shipstation.url(batch), "resource_type": "SHIP_NOTIFY"}
        async with session.post(url, json=body) as response:
            answers["POST notification"] = await response.text()
            assert response.status == 202, answers["POST notification"]
    await read.until_actions(owner, tenant, {"amazon": 1, "ebay": 1}, "succeeded")
    for path in [
        f"/v1/tenants/{tenant}", f"/v1/tenants/{tenant}/config", f"/v1/runs/{run['run_id']}",
        f"/v1/tenants/{tenant}/insights?status=open", f"/v1/tenants/{tenant}/orders",
        *(f"/v1/tenants/{tenant}/channels/{c}/actions" for c in CHANNELS),
    ]:  # fmt: skip
        answers[f"GET {path}"] = json.dumps((await owner.request("GET", path)).body)
    return answers


async def bus_messages(system: LiveSystem) -> dict[str, str]:
    """Every message every stream holds (the system's own NATS), headers included."""
    found: dict[str, str] = {}
    async with nats_client(system.endpoints.nats_url) as client:
        js = client.jetstream()
        for stream in await js.streams_info():
            name, state = str(stream.config.name), stream.state
            for seq in range(max(1, state.first_seq), state.last_seq + 1):
                try:
                    message = await js.get_msg(name, seq)
                except NotFoundError:
                    continue
                headers = json.dumps({str(k): str(v) for k, v in (message.headers or {}).items()})
                text = (message.data or b"").decode("utf-8", errors="replace")
                found[f"bus {name} #{seq} {message.subject}"] = f"{headers}\n{text}"
    return found


def log_lines(system: LiveSystem) -> dict[str, str]:
    logs: Path = system.state_dir / "logs"
    return {f"log {path.name}": path.read_text("utf-8") for path in sorted(logs.glob("*.log"))}


@pytest.mark.timeout(300)
async def test_no_secret_reaches_a_log_an_event_or_an_answer(
    system: LiveSystem, fakes: Marketplaces, shipstation: FakeShipstation
) -> None:
    tenant = f"sealed_{uuid.uuid4().hex[:10]}"
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, system.gateway_url, system.admin_key)
        answers = await act_for_real(admin, system, shipstation, tenant)

    # the secrets were used for real: the marketplaces and ShipStation saw them
    (patch,) = fakes.amazon.calls("PATCH")
    assert patch.headers["x-amz-access-token"] == AMAZON_TOKEN
    assert [r.headers["authorization"] for r in fakes.ebay.calls()][:1] == [f"Bearer {EBAY_TOKEN}"]
    assert any(seen.authorized for seen in shipstation.seen)

    events = await bus_messages(system)
    logs = log_lines(system)
    scanned = {**answers, **events, **logs}
    # what was scanned is the tenant's own traffic, from every service
    assert {f"log {name}.log" for name in ("gateway", "ingest", "channels", "insights")} <= set(
        logs
    )
    assert sum(tenant in text for text in logs.values()) >= 4
    assert sum(tenant in text for text in events.values()) >= 6
    assert leaks(scanned, secrets_of(system)) == []
