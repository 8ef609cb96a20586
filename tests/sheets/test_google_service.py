"""The sheets service's Google backend on the real stack (NATS, Postgres, S3), against the
local fake Google through the real gspread / gspread-asyncio clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.storage import ObjectStore
from relay_sheets.app import SheetsApp
from relay_sheets.devfake.model import FOLDER
from tests.sheets.google_stack import (
    SHARE_WITH,
    GoogleSheets,
    channel_acted,
    configured,
    google_sheets,
    insight,
    reallocation,
    sheets_settings,
)
from tests.support.channel_events import order_shipped
from tests.support.jetstream import next_event
from tests.support.polling import eventually_async
from tests.support.running import running

pytestmark = pytest.mark.stack

STREAM = f"GSHEETS_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0_TEXT = "2026-03-01T12:00:00Z"
SHIPPED = T0 + timedelta(hours=1)
SHIPPED_TEXT = "2026-03-01T13:00:00Z"
MERGED_ROWS = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,", "C-3,0,7.00,Gadget,v1,"]
LISTINGS_HEADER = ["sku", "title", "quantity", "price", "status", "listed_date", "last_sold_at"]


@pytest.fixture(scope="module")
async def sheets(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    object_store: ObjectStore,
) -> AsyncIterator[GoogleSheets]:
    state = tmp_path_factory.mktemp("gsheets-state")
    async with google_sheets(isolated_bus, STREAM, state, object_store) as running_sheets:
        yield running_sheets


async def test_tenant_configured_makes_the_folders_once_shared_in_the_shared_drive(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    for replay in (2, 3):  # a replayed event (new id), then again
        await sheets.send(configured(tenant, name, ["amazon", "ebay"], 1, n=replay))

    roots = [f for f in sheets.fake.children(sheets.drive_id) if f.name == f"Relay – {name}"]
    assert len(roots) == 1
    root = roots[0]
    assert root.drive_id == sheets.drive_id
    assert [(p["emailAddress"], p["role"]) for p in root.permissions] == [
        ("ops@merchant.com", "writer")
    ]
    channel_folders = sorted(f.name for f in sheets.fake.children(root.id, FOLDER))
    assert channel_folders == ["amazon", "ebay"]
    for channel in ("amazon", "ebay"):
        folder = sheets.fake.find(channel, root.id)
        assert folder is not None
        assert [p["emailAddress"] for p in folder.permissions] == SHARE_WITH
        assert [f.name for f in sheets.fake.children(folder.id)] == [f"Inventory – {channel}"]
    assert [f.name for f in sheets.fake.children(root.id) if f.mime_type != FOLDER] == [
        "Merged feed"
    ]
    creates = [
        r
        for r in sheets.fake.requests("drive")
        if r.method == "POST" and r.path == "/drive/v3/files"
    ]
    assert all(r.query["supportsAllDrives"] == ["true"] for r in creates)


async def test_merged_feed_and_orders_write_the_same_cells_on_both_backends(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    google, xlsx = f"g-{unique_id}", f"x-{unique_id}"
    name = f"Acme {unique_id}"
    await sheets.start_tenant(google, name, "google", MERGED_ROWS, T0)
    await sheets.start_tenant(xlsx, name, "xlsx", MERGED_ROWS, T0)
    book = sheets.book(name, "amazon")
    merchant_row = ["MERCH-1", "my own row", 7, None, "paused", None, None, "keep me"]
    sheets.fake.type_cells(book, "Listings", "H1", [["notes"], ["hero product"]])
    sheets.fake.type_cells(book, "Listings", "I3", [[42]])
    sheets.fake.type_cells(book, "Listings", "A5", [["" if v is None else v for v in merchant_row]])
    sheets.fake.add_note(book, "Listings", 1, 0, "merchant's note on A-1")
    path = sheets.root / xlsx / "amazon" / "Inventory – amazon.xlsx"
    workbook = load_workbook(path)
    workbook["Listings"]["H1"], workbook["Listings"]["H2"] = "notes", "hero product"
    workbook["Listings"]["I3"] = 42
    workbook["Listings"].append(merchant_row)
    workbook.save(path)
    items = [("A-1", 2), ("Z-9", 1), ("A-1", 1)]

    later = SHIPPED + timedelta(hours=1)
    for tenant in (google, xlsx):
        await sheets.send(order_shipped(tenant, f"e1-{tenant}", "O-1", "amazon", items, SHIPPED))
        await sheets.send(order_shipped(tenant, f"e2-{tenant}", "O-1", "amazon", items, SHIPPED))
        await sheets.send(insight(tenant, "open", SHIPPED, 1))
        await sheets.send(insight(tenant, "resolved", later, 2))
        await sheets.send(
            insight(tenant, "open", SHIPPED, 1).model_copy(update={"event_id": "late"})
        )
        await sheets.send(reallocation(tenant, "open", SHIPPED, None))
        await sheets.send(reallocation(tenant, "claimed", later, "ebay"))

    expected_listings = [
        [*LISTINGS_HEADER, "notes"],
        ["A-1", "Widget", 5, 12, "active", T0_TEXT, SHIPPED_TEXT, "hero product"],
        ["B-2", None, 0, 5.5, "active", T0_TEXT, None, None, 42],
        ["C-3", "Gadget", 0, 7, "active", T0_TEXT],
        merchant_row,
    ]
    expected_orders = [
        ["order_id", "sku", "quantity", "shipped_at"],
        ["O-1", "A-1", 3, SHIPPED_TEXT],
        ["O-1", "Z-9", 1, SHIPPED_TEXT],
    ]
    assert sheets.google_cells(name, "amazon", "Listings") == expected_listings
    assert sheets.xlsx_cells(xlsx, "amazon", "Listings") == expected_listings
    assert sheets.google_cells(name, "amazon", "Orders") == expected_orders
    assert sheets.xlsx_cells(xlsx, "amazon", "Orders") == expected_orders
    expected_insights = [
        ["kind", "sku", "status", "since", "detail"],
        ["out_of_stock", "B-2", "resolved", "2026-03-01T14:00:00Z", '{"quantity": 0}'],
    ]
    assert sheets.google_cells(name, "amazon", "Insights") == expected_insights
    assert sheets.xlsx_cells(xlsx, "amazon", "Insights") == expected_insights
    expected_reallocation = [
        [
            "entry_id",
            "origin",
            "target",
            "sku",
            "quantity",
            "reason",
            "state",
            "claimed_by",
            "updated_at",
        ],
        [
            "e-1",
            "amazon",
            "ebay",
            "C-3",
            4,
            "slow_mover",
            "claimed",
            "ebay",
            "2026-03-01T14:00:00Z",
        ],
    ]
    assert sheets.google_root_cells(name, "Reallocation") == expected_reallocation
    assert sheets.xlsx_root_cells(xlsx, "Reallocation") == expected_reallocation
    assert sheets.google_root_cells(name, "Merged feed") == sheets.xlsx_root_cells(
        xlsx, "Merged feed"
    )
    assert sheets.fake.books[book].sheet("Listings").cells[(1, 0)].note == "merchant's note on A-1"
    assert [s.title for s in sheets.fake.books[book].sheets] == ["Listings", "Orders", "Insights"]
    writes = [
        r for r in sheets.fake.requests("sheets-write") if r.path.endswith("values:batchUpdate")
    ]
    assert writes
    assert all(r.body["valueInputOption"] == "RAW" for r in writes)


async def test_a_deleted_spreadsheet_fails_permanently_with_its_reason_and_others_keep_updating(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    sheets.fake.delete_file(sheets.book(name, "ebay"))
    event_id = f"gone-{unique_id}"

    await sheets.send(order_shipped(tenant, event_id, "O-9", "ebay", [("A-1", 1)], SHIPPED))
    await sheets.send(
        order_shipped(tenant, f"ok-{unique_id}", "O-8", "amazon", [("B-2", 1)], SHIPPED)
    )

    dead = await next_event(
        sheets.client,
        subjects.dead_letter_stream(sheets.stream),
        "dlq.order.shipped",
        where=lambda record: record["event_id"] == event_id,
        timeout=30,
    )
    assert (dead["code"], dead["deliveries"]) == ("google_file_not_found", 1)
    state = await sheets.spreadsheet_state(tenant, "ebay")
    assert state is not None
    assert (state["state"], state["problem_code"]) == ("failed", "google_file_not_found")
    assert "not found (deleted, or never shared with Relay's service account)" in state["problem"]
    report = await next_event(
        sheets.client,
        sheets.stream,
        subjects.SHEET_SYNCED,
        where=lambda e: e["tenant_id"] == tenant and e["state"] == "failed",
        timeout=30,
    )
    assert (report["channel"], report["problem_code"]) == ("ebay", "google_file_not_found")
    assert sheets.google_cells(name, "amazon", "Orders")[1:] == [["O-8", "B-2", 1, SHIPPED_TEXT]]


async def test_an_unshared_spreadsheet_is_a_permanent_403(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    sheets.fake.unshare(sheets.book(name, "amazon"))

    await sheets.send(
        order_shipped(tenant, f"e-{unique_id}", "O-1", "amazon", [("A-1", 1)], SHIPPED)
    )

    state = await sheets.spreadsheet_state(tenant, "amazon")
    assert state is not None
    assert (state["state"], state["problem_code"]) == ("failed", "google_permission_denied")


async def test_5xx_and_429_are_retried_with_backoff_and_every_row_lands(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    refused_before = len([r for r in sheets.fake.log if r.status == 429])
    quotas = sheets.fake.quotas
    saved = quotas.per_user, quotas.window_s
    quotas.per_user, quotas.window_s = 2, 1.0
    sheets.fake.fail_next(503, 1)
    try:
        for i in range(6):
            order = order_shipped(
                tenant, f"e{i}-{unique_id}", f"O-{i}", "ebay", [("A-1", 1)], SHIPPED
            )
            await sheets.send(order)
    finally:
        quotas.per_user, quotas.window_s = saved

    assert [row[:3] for row in sheets.google_cells(name, "ebay", "Orders")[1:]] == [
        [f"O-{i}", "A-1", 1] for i in range(6)
    ]
    assert len([r for r in sheets.fake.log if r.status == 429]) > refused_before
    assert any(r.status == 503 for r in sheets.fake.log)
    state = await sheets.spreadsheet_state(tenant, "ebay")
    assert state is not None
    assert state["state"] == "ok"


async def test_a_channel_artifact_is_uploaded_into_the_channel_folder_once(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    key = f"tenants/{tenant}/outputs/channels/woot/listing_update_1.csv"
    await object_store.put_bytes(key, b"sku,quantity\nA-1,0\n")

    for n in (1, 2):
        await sheets.send(channel_acted(tenant, "ebay", key, n))

    folder = sheets.fake.find("ebay", sheets.root_folder(name))
    assert folder is not None
    placed = [f for f in sheets.fake.children(folder.id) if f.name == "listing_update_1.csv"]
    assert [bytes(f.content) for f in placed] == [b"sku,quantity\nA-1,0\n"]


async def test_uploaded_spreadsheets_become_listings_or_are_reported_per_file(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    folder = sheets.fake.find("ebay", sheets.root_folder(name))
    assert folder is not None
    upload = sheets.fake.upload_sheet
    upload(
        "Spring",
        folder.id,
        [
            [" SKU ", "Title", "Quantity", "Status"],
            ["B-2", "Gadget", 0, "Paused"],
            ["A-1", "Widget", 5, ""],
        ],
    )
    upload("Twice", folder.id, [["sku", "quantity"], ["A-1", 1], ["A-1", 2]])
    upload("No sku", folder.id, [["item", "quantity"], ["A-1", 1]])
    upload("Formula", folder.id, [["sku", "quantity"], ['="A-"&1', 1]])
    merged = upload("Merged", folder.id, [["sku", "quantity"], ["A-1", 1], ["", 2]])
    sheet = sheets.fake.books[merged].sheets[0]
    sheet.merges.append(
        {
            "sheetId": sheet.sheet_id,
            "startRowIndex": 1,
            "endRowIndex": 3,
            "startColumnIndex": 0,
            "endColumnIndex": 1,
        }
    )
    upload("Huge", folder.id, [["sku", "quantity"], *([f"S-{n}", 1] for n in range(50_000))])

    imported = await next_event(
        sheets.client,
        sheets.stream,
        subjects.LISTINGS_IMPORTED,
        where=lambda e: e["tenant_id"] == tenant,
        timeout=60,
    )

    assert (imported["channel"], imported["rows"], imported["source"]) == ("ebay", 2, "sheet")
    assert await object_store.get_bytes(imported["listings_key"]) == (
        b"sku,title,quantity,status,listed_date\nA-1,Widget,5,active,\nB-2,Gadget,0,paused,\n"
    )

    async def all_read() -> list[Any] | None:
        rows = await sheets.fetch(
            "SELECT name, status FROM sheets.uploads WHERE tenant_id = $1 ORDER BY name", tenant
        )
        return rows if len(rows) == 6 else None

    assert [tuple(r) for r in await eventually_async(all_read, timeout=60)] == [
        ("Formula", "rejected"),
        ("Huge", "rejected"),
        ("Merged", "rejected"),
        ("No sku", "rejected"),
        ("Spring", "imported"),
        ("Twice", "rejected"),
    ]
    problems = {
        r["title"]: (r["state"], r["problem_code"], r["problem"])
        for r in await sheets.fetch(
            "SELECT title, state, problem_code, problem FROM sheets.spreadsheets"
            " WHERE tenant_id = $1 AND channel = 'ebay' AND title NOT LIKE 'Inventory%'",
            tenant,
        )
    }
    code = "listing_sheet_rejected"
    assert problems == {
        "Spring": ("ok", None, None),
        "Twice": ("failed", code, "row 3, sku: duplicate sku 'A-1' (first on row 2)"),
        "No sku": ("failed", code, "row 1, sku: missing column"),
        "Formula": ("failed", code, 'row 2, sku: is a formula (="A-"&1): type the sku as text'),
        "Merged": ("failed", code, "row 2, sku: merged cells (rows 2 to 3): unmerge them"),
        "Huge": (
            "failed",
            code,
            "the sheet: the sheet has 50,000 data rows, above the limit of 20,000 for a listing"
            " sheet (import larger catalogues with PUT"
            " /v1/tenants/{id}/channels/{channel}/listings)",
        ),
    }


async def test_a_restarted_service_that_lost_its_rows_adopts_the_drive_folders_not_twice(
    sheets: GoogleSheets,
    object_store: ObjectStore,
    unique_id: str,
    isolated_bus: StackEndpoints,
    tmp_path: Path,
) -> None:
    """A crash between Drive's answer and the row being written (simulated: the rows are
    deleted), then a restart (another process's state) and a replay: Drive is searched first,
    so the folders and spreadsheets are adopted, never made again."""
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    before = sorted(f.id for f in sheets.fake.files.values())
    await sheets.fetch("DELETE FROM sheets.folders WHERE tenant_id = $1", tenant)
    await sheets.fetch("DELETE FROM sheets.spreadsheets WHERE tenant_id = $1", tenant)

    settings = sheets_settings(isolated_bus, sheets.stream, tmp_path, sheets.fake)
    async with running([SheetsApp(settings)]):  # a second replica, fresh in-memory state
        await sheets.send(configured(tenant, name, ["amazon", "ebay"], 1, n=9))
        order = order_shipped(tenant, f"r-{unique_id}", "O-7", "amazon", [("A-1", 1)], SHIPPED)
        await sheets.send(order)

    assert sorted(f.id for f in sheets.fake.files.values()) == before
    assert sheets.google_cells(name, "amazon", "Orders")[1:] == [["O-7", "A-1", 1, SHIPPED_TEXT]]
    folders = await sheets.fetch(
        "SELECT channel FROM sheets.folders WHERE tenant_id = $1 ORDER BY channel", tenant
    )
    assert [r["channel"] for r in folders] == ["", "amazon", "ebay"]


async def test_on_xlsx_the_folders_are_made_on_disk_and_an_artifact_is_copied_in(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"x-{unique_id}"
    await sheets.start_tenant(tenant, "Acme", "xlsx", MERGED_ROWS, T0)
    await sheets.send(configured(tenant, "Acme", ["amazon", "ebay", "woot"], 1, n=2))
    key = f"tenants/{tenant}/outputs/channels/woot/listing_update_2.csv"
    await object_store.put_bytes(key, b"sku,quantity\nC-3,0\n")

    await sheets.send(channel_acted(tenant, "woot", key, 1))

    root = sheets.root / tenant
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["amazon", "ebay", "woot"]
    assert (root / "woot" / "listing_update_2.csv").read_bytes() == b"sku,quantity\nC-3,0\n"
    assert sorted(p.name for p in (root / "woot").iterdir()) == ["listing_update_2.csv"]
