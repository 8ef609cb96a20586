"""Both flows end to end through the gateway's HTTP API, every service a real process:
feed run (gateway → ingest → normalize → pricing → gateway) and shipped order
(webhook → insights → sheets)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from openpyxl import load_workbook

from relay_cli.bus_watch import collect, nats_client
from relay_cli.gateway_client import GatewayClient
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.domain.layout import channel_spreadsheet
from tests.support.jetstream import stream_events
from tests.support.live_system import LiveSystem
from tests.support.polling import eventually

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "acme_parts"
FEEDS = {
    "vendor_1": ("vendor_1.csv", "text/csv"),
    "vendor_2": ("vendor_2.csv", "text/csv"),
    "vendor_3": ("vendor_3.json", "application/json"),
}
# sku, quantity, price, vendor — worked by hand from the example feeds and the seed's pricing
# (margin 20 %, S&H 9.99 (vendor_3: 4.99), min 25.00, MAP floor, nearest .99).
EXPECTED_ROWS = [
    ("ALT-8001", "2", "166.99", "vendor_2"),
    ("BAT-5001", "6", "149.99", "vendor_1"),
    ("BRK-1001", "3", "59.99", "vendor_2"),
    ("BRK-1002", "8", "59.99", "vendor_2"),
    ("FLT-2001", "120", "25.99", "vendor_1"),
    ("FLT-2002", "85", "25.99", "vendor_1"),
    ("HSE-7001", "12", "25.99", "vendor_1"),
    ("LMP-6001", "60", "25.99", "vendor_3"),
    ("SPK-3001", "500", "25.99", "vendor_3"),
    ("TIR-9001", "4", "111.99", "vendor_3"),
    ("WPR-4001", "33", "25.99", "vendor_1"),
]


def example_config(tenant_id: str) -> str:
    return (EXAMPLES / "tenant.yaml").read_text(encoding="utf-8").replace("acme_parts", tenant_id)


async def onboard(admin: GatewayClient, tenant_id: str) -> GatewayClient:
    owner = admin.as_key(await admin.create_tenant(tenant_id, "Acme", ["amazon", "ebay", "woot"]))
    assert await owner.put_config(tenant_id, example_config(tenant_id)) == 1
    sku_map = await owner.put_sku_map(
        tenant_id, "vendor_1", (EXAMPLES / "sku_map_vendor_1.csv").read_bytes()
    )
    assert sku_map["rows"] == 1
    for vendor_id, (name, content_type) in FEEDS.items():
        body = (EXAMPLES / "feeds" / name).read_bytes()
        uploaded = await owner.upload_feed(tenant_id, vendor_id, body, content_type)
        assert uploaded["size"] == len(body)
    return owner


def local_run(tmp_path: Path, tenant_id: str, as_of: str) -> bytes:
    """The same inputs through `relay local-run`: the services must produce the same bytes."""
    config = tmp_path / "tenant.yaml"
    config.write_text(example_config(tenant_id), encoding="utf-8")
    feeds = [f"--feed={v}={EXAMPLES / 'feeds' / n}" for v, (n, _) in FEEDS.items()]
    out = tmp_path / "local"
    subprocess.run(
        [sys.executable, "-m", "relay_cli", "local-run", f"--config={config}", *feeds,
         f"--sku-map=vendor_1={EXAMPLES / 'sku_map_vendor_1.csv'}", f"--out={out}",
         f"--as-of={as_of}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return (out / "merged_inventory.csv").read_bytes()


@pytest.fixture(scope="module")
def tenant_id() -> str:
    return f"acme_e2e_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
async def finished_run(
    live_system: LiveSystem, tenant_id: str
) -> AsyncIterator[tuple[GatewayClient, dict[str, Any]]]:
    """The example tenant onboarded through the API and one run through to its end."""
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, live_system.gateway_url, live_system.admin_key)
        owner = await onboard(admin, tenant_id)
        queued = await owner.start_run(tenant_id)
        assert (queued["status"], queued["config_version"]) == ("QUEUED", 1)
        async with asyncio.timeout(120):
            run = await owner.wait_for_run(queued["run_id"])
        yield owner, run


async def test_feed_run_end_to_end(
    finished_run: tuple[GatewayClient, dict[str, Any]], tenant_id: str, tmp_path: Path
) -> None:
    owner, run = finished_run
    assert (run["status"], run["stage"], run["error"]) == ("SUCCEEDED", "done", None)
    assert run["counts"] == {"merged_rows": 11, "skus_left_out": 0}
    vendors = {
        v: (c["status"], c["rows"], c["accepted"], c["rejected"]) for v, c in run["vendors"].items()
    }
    assert vendors == {
        "vendor_1": ("ok", 10, 9, 1),
        "vendor_2": ("ok", 7, 7, 0),
        "vendor_3": ("ok", 4, 4, 0),
    }  # fmt: skip
    artifacts = {a["name"]: a for a in await owner.artifacts(run["run_id"])}
    assert {"merged_inventory.csv", "errors.json", "run_summary.json"} <= set(artifacts)
    merged = await owner.download(artifacts["merged_inventory.csv"]["url"])
    lines = merged.decode().splitlines()
    assert lines[0] == "sku,quantity_available,price,vendor_id,updated_at"
    rows = [line.split(",") for line in lines[1:]]
    assert [tuple(r[:4]) for r in rows] == EXPECTED_ROWS
    as_of = rows[0][4]
    assert {r[4] for r in rows} == {as_of}
    assert merged == local_run(tmp_path, tenant_id, as_of)
    errors = json.loads(await owner.download(artifacts["errors.json"]["url"]))
    assert [(e["vendor_id"], e["row"], e["code"], e["value"]) for e in errors["errors"]] == [
        ("vendor_1", 11, "invalid_quantity", "N/A")
    ]


def signed_order(tenant_id: str, event_id: str) -> bytes:
    order: dict[str, Any] = json.loads((EXAMPLES / "shipstation_order.json").read_text())
    order["tenant_id"] = tenant_id
    order["event_id"] = event_id
    order["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(order).encode()


async def test_shipped_order_end_to_end(
    live_system: LiveSystem,
    admin: GatewayClient,
    finished_run: tuple[GatewayClient, dict[str, Any]],
    tenant_id: str,
) -> None:
    """After the run: 4 × BAT-5001 ship on amazon, whose allocation (buffer 2) gave it
    6 − 2 = 4, so it goes out of stock."""
    assert finished_run[1]["status"] == "SUCCEEDED"
    body = signed_order(tenant_id, f"evt_{tenant_id}")
    first = await admin.post_shipstation(body, live_system.webhook_secret, expect=(202,))
    again = await admin.post_shipstation(body, live_system.webhook_secret, expect=(200,))
    assert (first.status, again.status) == (202, 200)

    async with nats_client(live_system.endpoints.nats_url) as client:
        insight = (
            await collect(
                client,
                "RELAY",
                "insight.generated",
                until=lambda e: (
                    e["tenant_id"] == tenant_id
                    and (e["channel"], e["sku"], e["kind"])
                    == ("amazon", "BAT-5001", "out_of_stock")
                ),
            )
        )[-1]
        shipped = await stream_events(client, "RELAY", "order.shipped")
    assert insight["status"] == "open"
    # the webhook's redelivery (answered 200) published nothing: one order.shipped
    ours = [e for e in shipped if e["tenant_id"] == tenant_id]
    assert len(ours) == 1
    assert ours[0]["items"] == [{"sku": "BAT-5001", "quantity": 4}]
    assert "jane" not in json.dumps(ours[0]).lower()

    conn = await asyncpg.connect(live_system.endpoints.database_url)
    try:
        lines = await conn.fetch(
            "SELECT order_id, sku, channel, quantity FROM insights.order_lines"
            " WHERE tenant_id = $1",
            tenant_id,
        )
        product = await conn.fetchrow(
            "SELECT quantity, last_sold_at FROM insights.products"
            " WHERE tenant_id = $1 AND channel = 'amazon' AND sku = 'BAT-5001'",
            tenant_id,
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in lines] == [("A-1001", "BAT-5001", "amazon", 4)]
    assert product is not None
    assert product["quantity"] == 0
    assert product["last_sold_at"] == datetime(2026, 11, 22, 9, 55, tzinfo=UTC)

    await assert_workbook(live_system.state_dir, tenant_id)


def read_sheets(path: Path) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(path, read_only=True)
    try:
        return {
            name: [list(r) for r in workbook[name].iter_rows(values_only=True)]
            for name in ("Listings", "Orders", "Insights")
        }
    finally:
        workbook.close()


async def assert_workbook(state_dir: Path, tenant_id: str) -> None:
    """Wait (deadline) for sheets to have written the order and the insight, then check
    the cells exactly."""
    path = XlsxBackend(state_dir / "sheets").path_for(channel_spreadsheet(tenant_id, "amazon"))

    def written() -> dict[str, list[list[Any]]] | None:
        if not path.exists():
            return None
        sheets = read_sheets(path)
        insight_rows = [r for r in sheets["Insights"][1:] if r[1] == "BAT-5001"]
        return sheets if len(sheets["Orders"]) > 1 and insight_rows else None

    sheets = await eventually(written, timeout=30)
    assert sheets["Orders"][0] == ["order_id", "sku", "quantity", "shipped_at"]
    assert sheets["Orders"][1:] == [["A-1001", "BAT-5001", 4, "2026-11-22T09:55:00Z"]]
    insights = [row for row in sheets["Insights"][1:] if row[1] == "BAT-5001"]
    assert [row[:3] for row in insights] == [["out_of_stock", "BAT-5001", "open"]]
    listings = {row[0]: row for row in sheets["Listings"][1:]}
    assert listings["BAT-5001"][2] == 0


async def test_two_runs_of_one_tenant_at_once_both_finish_with_the_same_feed(
    admin: GatewayClient, unique_id: str
) -> None:
    """Within the tenant's concurrency cap (2) both runs go through the pipeline together;
    each is scoped by its run id, so both succeed and price the same inputs identically."""
    tenant = f"acme_two_{unique_id}"
    owner = await onboard(admin, tenant)
    first, second = [await owner.start_run(tenant) for _ in range(2)]

    async with asyncio.timeout(120):
        runs = await asyncio.gather(
            owner.wait_for_run(first["run_id"]), owner.wait_for_run(second["run_id"])
        )

    assert [(r["status"], r["counts"]["merged_rows"]) for r in runs] == [("SUCCEEDED", 11)] * 2
    feeds = []
    for run in runs:
        artifacts = {a["name"]: a for a in await owner.artifacts(run["run_id"])}
        merged = await owner.download(artifacts["merged_inventory.csv"]["url"])
        feeds.append([tuple(line.split(",")[:4]) for line in merged.decode().splitlines()[1:]])
    assert feeds == [EXPECTED_ROWS, EXPECTED_ROWS]
