"""Three channels end to end, every service a real process: listings imported through the API,
a feed run, a signed ShipStation order that empties amazon's kettles, 31 days travelled so the
daily evaluation opens the slow movers, every action recorded dry-run with nothing sent; then
``dry_run: false`` with the marketplace credentials, a ShipStation notification whose
shipments (fetched from a local fake ShipStation) empty every channel's mugs, and the exact
requests the fake Amazon and eBay received, the Woot update file in the channel folder, the
audit rows, the insights and the workbooks. Values worked by hand in :mod:`.channels_scenario`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from relay_gateway.domain.webhook_payloads import order_event_id
from relay_ingest.domain.shipments import shipped_event_id
from relay_shared import subjects
from tests.e2e import channels_reading as read
from tests.e2e.channels_expected import (
    Moments,
    expected_dry_run_actions,
    expected_live_actions,
    expected_live_insights,
    expected_ordered_insights,
    expected_requests,
    expected_travelled_insights,
    marketplace_requests,
)
from tests.e2e.channels_scenario import (
    CHANNELS,
    FEED,
    MERGED,
    QUANTITIES,
    SS_KEY,
    SS_SECRET,
    SS_TOKEN,
    STORES,
    VENDOR,
    config_yaml,
    listings_csv,
)
from tests.e2e.channels_workbooks import assert_woot_file, assert_workbooks
from tests.insights.daily_support import TravelClock
from tests.support.fake_marketplaces import Marketplaces, fake_marketplaces
from tests.support.fake_shipstation import FakeShipstation, serving, shipment
from tests.support.jetstream import nats_client, stream_events
from tests.support.live_system import LiveSystem, live_system_on, travelling_env

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[Marketplaces]:
    async with fake_marketplaces() as running:
        yield running


@pytest.fixture(scope="module")
async def shipstation() -> AsyncIterator[FakeShipstation]:
    async with serving(FakeShipstation(SS_KEY, SS_SECRET)) as fake:
        yield fake


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> TravelClock:
    return TravelClock(tmp_path_factory.mktemp("clock") / "offset")


@pytest.fixture(scope="module")
def system(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    fakes: Marketplaces,
    clock: TravelClock,
) -> Iterator[LiveSystem]:
    env = travelling_env(clock.path, fakes.env())
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("live-channels"), env) as live:
        yield live


@pytest.fixture
async def db(system: LiveSystem) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(system.endpoints.database_url, server_settings={"timezone": "UTC"})
    try:
        yield conn
    finally:
        await conn.close()


async def onboard(admin: GatewayClient, tenant: str, listed: Any) -> GatewayClient:
    """The tenant, its config (dry-run everywhere) and its three channels' listings."""
    owner = admin.as_key(await admin.create_tenant(tenant, "Kitchen Shop", CHANNELS))
    assert await owner.put_config(tenant, config_yaml(tenant, live=False)) == 1
    for channel in CHANNELS:
        accepted = await owner.request(
            "PUT",
            f"/v1/tenants/{tenant}/channels/{channel}/listings",
            data=listings_csv(listed),
            headers={"Content-Type": "text/csv"},
            expect=(202,),
        )
        assert (accepted.body["channel"], accepted.body["rows"]) == (channel, 2)
    return owner


async def feed_run(owner: GatewayClient, tenant: str) -> None:
    uploaded = await owner.upload_feed(tenant, VENDOR, FEED, "text/csv")
    assert uploaded["size"] == len(FEED)
    queued = await owner.start_run(tenant)
    run = await owner.wait_for_run(queued["run_id"])
    assert (run["status"], run["counts"]) == ("SUCCEEDED", {"merged_rows": 2, "skus_left_out": 0})
    artifacts = {a["name"]: a for a in await owner.artifacts(run["run_id"])}
    merged = (await owner.download(artifacts["merged_inventory.csv"]["url"])).decode()
    assert [line.split(",") for line in merged.splitlines()] == MERGED


async def signed_order(
    admin: GatewayClient, system: LiveSystem, tenant: str, event_id: str, at: datetime
) -> None:
    """Amazon ships its 3 kettles (its 50 % of 6): the webhook posts the order itself."""
    payload = {
        "event_id": event_id,
        "event_type": "order.shipped",
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tenant_id": tenant,
        "order": {
            "order_id": "A-KTL-1",
            "channel": "amazon",
            "status": "shipped",
            "shipped_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "customer": {"name": "Jane Example", "email": "jane@example.com"},
            "items": [{"sku": "KTL-100", "quantity": 3}],
        },
    }
    body = json.dumps(payload).encode()
    answer = await admin.post_shipstation(body, system.webhook_secret, expect=(202,))
    assert answer.body["status"] == "accepted"


def created(at: datetime) -> str:
    """``at`` as ShipStation's createDate (Pacific time, no zone)."""
    return at.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S.0000000")


async def notify_shipments(
    system: LiveSystem, shipstation: FakeShipstation, m: Moments, shipment_ids: dict[str, int]
) -> None:
    """Each channel ships all its mugs (amazon, then ebay, then woot, a minute apart);
    ShipStation notifies, ingest fetches the batch from the fake."""
    tenant, batch = m.tenant, f"b-{m.tenant}"
    shipstation.batches[batch] = [
        [
            shipment(shipment_ids[c], STORES[c], [("MUG-200", QUANTITIES[(c, "MUG-200")])],
                     create_date=created(m.shipped[c]))
            for c in CHANNELS
        ]
    ]  # fmt: skip
    body = {"resource_url": shipstation.url(batch), "resource_type": "SHIP_NOTIFY"}
    async with aiohttp.ClientSession() as session:
        url = f"{system.gateway_url}/v1/webhooks/shipstation?tenant={tenant}&token={SS_TOKEN}"
        async with session.post(url, json=body) as response:
            assert response.status == 202, await response.text()


async def merged_at(system: LiveSystem, tenant: str) -> datetime:
    """When the feed run's offers.merged happened (sheets lists new skus as of then)."""
    async with nats_client(system.endpoints.nats_url) as client:
        events = await stream_events(client, "RELAY", subjects.OFFERS_MERGED)
    (merged,) = [e for e in events if e["tenant_id"] == tenant]
    return datetime.fromisoformat(merged["occurred_at"].replace("Z", "+00:00"))


async def dry_run_phase(
    admin: GatewayClient,
    system: LiveSystem,
    db: asyncpg.Connection,
    fakes: Marketplaces,
    clock: TravelClock,
    tenant: str,
) -> tuple[GatewayClient, Moments, dict[str, list[dict[str, Any]]]]:
    """Listings, a feed run, amazon's kettles sold, 31 days on: the insights and the
    dry-run audit rows, and nothing sent anywhere."""
    listed = datetime.now(UTC).date()
    owner = await onboard(admin, tenant, listed)
    await read.until_products(db, tenant, {key: (1, "active") for key in QUANTITIES})
    await feed_run(owner, tenant)
    await read.until_products(db, tenant, {k: (q, "active") for k, q in QUANTITIES.items()})
    await read.until_channels_know(db, tenant, 1)

    ordered_at = datetime.now(UTC).replace(microsecond=0)
    await signed_order(admin, system, tenant, f"evt-{tenant}", ordered_at)
    m = Moments(tenant, listed, ordered_at, order_event_id(tenant, f"evt-{tenant}"))
    ordered = expected_ordered_insights(m)
    assert await read.until_insights(owner, tenant, (ordered, [])) == (ordered, [])

    clock.travel(31)
    m.daily_day, m.daily_at = await read.daily_as_of(db, tenant)
    travelled = expected_travelled_insights(m)
    opened, resolved = await read.until_insights(owner, tenant, (travelled, []))
    assert (opened, resolved) == (travelled, [])
    audited = await read.until_actions(owner, tenant, {c: 2 for c in CHANNELS}, "dry_run")
    assert audited == expected_dry_run_actions(m, opened, fakes)
    assert (fakes.amazon.requests, fakes.ebay.requests) == ([], [])
    woot_folder = read.workbook_path(system.sheets_dir, tenant, "woot").parent
    assert [p.name for p in woot_folder.iterdir() if p.suffix == ".csv"] == []
    return owner, m, audited


async def live_phase(
    owner: GatewayClient,
    system: LiveSystem,
    db: asyncpg.Connection,
    fakes: Marketplaces,
    shipstation: FakeShipstation,
    clock: TravelClock,
    m: Moments,
    dry_run: dict[str, list[dict[str, Any]]],
) -> None:
    """Dry-run off; every channel's mugs sold (through ShipStation's API): the insights, the
    requests sent, the audit rows, the Woot file and the workbooks."""
    tenant = m.tenant
    assert await owner.put_config(tenant, config_yaml(tenant, live=True)) == 2
    await read.until_channels_know(db, tenant, 2)
    base = int(uuid.uuid4().hex[:6], 16) * 10
    ids = {channel: base + index for index, channel in enumerate(CHANNELS, 1)}
    first = (clock.now() + timedelta(minutes=1)).replace(microsecond=0)
    m.shipped = {c: first + timedelta(minutes=i) for i, c in enumerate(CHANNELS)}
    m.shipped_by = {c: shipped_event_id(tenant, str(n)) for c, n in ids.items()}
    await notify_shipments(system, shipstation, m, ids)

    expected = expected_live_insights(m)
    opened, resolved = await read.until_insights(owner, tenant, expected)
    assert (opened, resolved) == expected
    audited = await read.until_actions(owner, tenant, {c: 3 for c in CHANNELS}, "succeeded")
    assert audited == expected_live_actions(m, opened, fakes, dry_run)
    assert marketplace_requests(fakes) == expected_requests(tenant)

    (woot_pause,) = [row for row in audited["woot"] if row["outcome"] == "succeeded"]
    await assert_woot_file(system.sheets_dir, woot_pause["artifact_key"])
    merged = await merged_at(system, tenant)
    await assert_workbooks(system.sheets_dir, m, opened + resolved, merged, ids)


@pytest.mark.timeout(600)
async def test_three_channels_act_dry_run_then_for_real(
    system: LiveSystem,
    db: asyncpg.Connection,
    fakes: Marketplaces,
    shipstation: FakeShipstation,
    clock: TravelClock,
) -> None:
    tenant = f"shop_{uuid.uuid4().hex[:10]}"
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, system.gateway_url, system.admin_key)
        owner, moments, dry_run = await dry_run_phase(admin, system, db, fakes, clock, tenant)
        await live_phase(owner, system, db, fakes, shipstation, clock, moments, dry_run)
