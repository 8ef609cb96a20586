"""The channel workbooks (xlsx backend) and the Woot update file at the end of the channels
end-to-end test: waited for (sheets writes them from its own consumers), then checked cell by
cell."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.e2e import channels_reading as read
from tests.e2e.channels_expected import Moments, channel_quantities_after
from tests.e2e.channels_scenario import CHANNELS, QUANTITIES, stamp
from tests.support.polling import eventually

LISTINGS = ["sku", "title", "quantity", "price", "status", "listed_date", "last_sold_at"]
ORDERS = ["order_id", "sku", "quantity", "shipped_at"]
INSIGHTS = ["kind", "sku", "status", "since", "detail"]
PRICES = {"KTL-100": 24, "MUG-200": 12}
TITLES = {"KTL-100": "Kettle", "MUG-200": "Mug"}


def _detail(found: dict[str, Any]) -> str:
    return json.dumps(found["detail"], sort_keys=True)


def _insight_rows(found: list[dict[str, Any]], channel: str) -> list[list[Any]]:
    rows = [
        [
            i["kind"],
            i["sku"],
            i["status"],
            stamp(i["since"]),
            _detail(i),
        ]
        for i in found
        if i["channel"] == channel
    ]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def expected_workbook(
    m: Moments,
    channel: str,
    insights: list[dict[str, Any]],
    merged_at: datetime,
    order_ids: dict[str, int],
) -> dict[str, list[list[Any]]]:
    """Listings: the channel's quantities after its sales (price and title from the feed,
    listed when the feed first named them), Orders: its shipped lines, Insights: one row per
    (kind, sku) at its latest status (sorted here: rows are appended in event order)."""
    mugs = [f"ORD-{order_ids[channel]}", "MUG-200", QUANTITIES[(channel, "MUG-200")]]
    orders = [[*mugs, stamp(m.shipped[channel])]]
    sold = {"MUG-200": stamp(m.shipped[channel])}
    if channel == "amazon":
        sold["KTL-100"] = stamp(m.ordered_at)
        orders.insert(0, ["A-KTL-1", "KTL-100", 3, stamp(m.ordered_at)])
    quantities = channel_quantities_after(channel)
    listings = [
        [sku, TITLES[sku], quantities[sku], PRICES[sku], "active", stamp(merged_at), sold.get(sku)]
        for sku in ("KTL-100", "MUG-200")
    ]
    return {
        "Listings": [LISTINGS, *listings],
        "Orders": [ORDERS, *orders],
        "Insights": [INSIGHTS, *_insight_rows(insights, channel)],
    }


def _comparable(sheets: dict[str, list[list[Any]]]) -> dict[str, list[list[Any]]]:
    """The workbook with its Insights rows sorted by (sku, kind)."""
    insights = sheets["Insights"]
    rows = sorted(insights[1:], key=lambda r: (r[1], r[0]))
    return {**sheets, "Insights": [insights[0], *rows]}


async def assert_workbooks(
    sheets_dir: Path,
    m: Moments,
    insights: list[dict[str, Any]],
    merged_at: datetime,
    order_ids: dict[str, int],
) -> None:
    for channel in CHANNELS:
        expected = expected_workbook(m, channel, insights, merged_at, order_ids)

        def caught_up(sheets: dict[str, list[list[Any]]], wanted: Any = expected) -> bool:
            return [r[:3] for r in _comparable(sheets)["Insights"]] == [
                r[:3] for r in wanted["Insights"]
            ] and len(sheets["Orders"]) == len(wanted["Orders"])

        sheets = await read.until_workbook(sheets_dir, m.tenant, channel, caught_up)
        assert _comparable(sheets) == expected, channel


async def assert_woot_file(sheets_dir: Path, artifact_key: str) -> None:
    """The one Woot update file (the real pause of the mugs; the dry-run reprices wrote
    none), placed by sheets beside the woot workbook."""
    folder = read.workbook_path(sheets_dir, artifact_key.split("/")[1], "woot").parent
    name = artifact_key.rsplit("/", 1)[-1]
    text = await read.until_file(folder / name)
    assert text == "sku,quantity,price,status\nMUG-200,0,,paused\n"

    def csv_files() -> list[str] | None:
        return sorted(p.name for p in folder.iterdir() if p.suffix == ".csv") or None

    assert await eventually(csv_files, timeout=read.WAIT_S) == [name]
