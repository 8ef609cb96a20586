"""The merchant's formatting and notes survive Relay's updates on both backends: on xlsx a
cell's style (fill, font, number format) and comment stay when its value is rewritten; on
Google a colour / number format and a note the merchant set with ``repeatCell`` stay, because
the service only ever writes values (``values:batchUpdate``), never a request that sets or
clears formats or notes on a tab that exists."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from relay_cli.stack import StackEndpoints
from relay_shared.storage import ObjectStore
from tests.sheets.google_stack import GoogleSheets, google_sheets
from tests.support.channel_events import offers_merged, order_shipped, put_merged

pytestmark = pytest.mark.stack

STREAM = f"GSHEETSFMT_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0_TEXT = "2026-03-01T12:00:00Z"
SHIPPED = T0 + timedelta(days=1, hours=1)
SHIPPED_TEXT = "2026-03-02T13:00:00Z"
MERGED_ROWS = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,"]
HIGHLIGHT = {
    "backgroundColor": {"red": 1, "green": 0.9, "blue": 0.6},
    "numberFormat": {"type": "NUMBER", "pattern": "#,##0"},
}


@pytest.fixture(scope="module")
async def sheets(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    object_store: ObjectStore,
) -> AsyncIterator[GoogleSheets]:
    state = tmp_path_factory.mktemp("gsheets-format")
    async with google_sheets(isolated_bus, STREAM, state, object_store) as running_sheets:
        yield running_sheets


def merchant_google_formatting(sheets: GoogleSheets, book: str) -> None:
    """Row 2 (A-1) coloured with a number format; a note on its quantity cell (C2)."""
    sheet_id = sheets.fake.books[book].sheet("Listings").sheet_id
    row = {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 2}
    sheets.fake.merchant_requests(
        book,
        [
            {
                "repeatCell": {
                    "range": {**row, "startColumnIndex": 0, "endColumnIndex": 7},
                    "cell": {"userEnteredFormat": HIGHLIGHT},
                    "fields": "userEnteredFormat(backgroundColor,numberFormat)",
                }
            },
            {
                "repeatCell": {
                    "range": {**row, "startColumnIndex": 2, "endColumnIndex": 3},
                    "cell": {"note": "reorder at 5"},
                    "fields": "note",
                }
            },
        ],
    )


def merchant_xlsx_formatting(sheets: GoogleSheets, tenant: str) -> None:
    """C2 (A-1's quantity): yellow fill, bold red font, a number format and a comment."""
    path = sheets.root / tenant / "amazon" / "Inventory – amazon.xlsx"
    workbook = load_workbook(path)
    cell = workbook["Listings"]["C2"]
    cell.fill = PatternFill("solid", fgColor="FFFFE699")
    cell.font = Font(bold=True, color="FFC00000")
    cell.number_format = "#,##0"
    cell.comment = Comment("reorder at 5", "merchant")
    workbook.save(path)


def xlsx_dress(sheets: GoogleSheets, tenant: str) -> dict[str, Any]:
    path = sheets.root / tenant / "amazon" / "Inventory – amazon.xlsx"
    cell = load_workbook(path)["Listings"]["C2"]
    return {
        "value": cell.value,
        "fill": (cell.fill.fill_type, cell.fill.fgColor.rgb),
        "font": (cell.font.b, cell.font.color.rgb),
        "number_format": cell.number_format,
        "comment": (cell.comment.text, cell.comment.author) if cell.comment else None,
    }


async def test_merchant_formatting_and_notes_survive_updates_on_both_backends(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    google, xlsx = f"g-{unique_id}", f"x-{unique_id}"
    name = f"Acme {unique_id}"
    await sheets.start_tenant(google, name, "google", MERGED_ROWS, T0)
    await sheets.start_tenant(xlsx, name, "xlsx", MERGED_ROWS, T0)
    book = sheets.book(name, "amazon")
    merchant_google_formatting(sheets, book)
    merchant_xlsx_formatting(sheets, xlsx)
    logged_before = len(sheets.fake.log)

    for tenant in (google, xlsx):  # a new feed (A-1: 20 → 18 on amazon), then 2 × A-1 ship
        key = await put_merged(object_store, tenant, "run-2", ["A-1,20,13.00,Widget,v1,"])
        await sheets.send(offers_merged(tenant, "run-2", key, T0 + timedelta(days=1)))
        await sheets.send(
            order_shipped(tenant, f"o-{tenant}", "O-1", "amazon", [("A-1", 2)], SHIPPED)
        )

    row = ["A-1", "Widget", 16, 13, "active", T0_TEXT, SHIPPED_TEXT]
    assert sheets.google_cells(name, "amazon", "Listings")[1] == row
    assert sheets.xlsx_cells(xlsx, "amazon", "Listings")[1] == row
    quantity = sheets.fake.cell(book, "Listings", 1, 2)
    assert quantity is not None
    assert (quantity.value, quantity.note, quantity.format) == (16, "reorder at 5", HIGHLIGHT)
    for col in (0, 1, 3, 4, 5, 6):
        cell = sheets.fake.cell(book, "Listings", 1, col)
        assert cell is not None
        assert (cell.format, cell.note) == (HIGHLIGHT, None)
    assert xlsx_dress(sheets, xlsx) == {
        "value": 16,
        "fill": ("solid", "FFFFE699"),
        "font": (True, "FFC00000"),
        "number_format": "#,##0",
        "comment": ("reorder at 5", "merchant"),
    }
    service_writes = [
        (r.method, r.path.rsplit("/", 1)[-1])
        for r in sheets.fake.log[logged_before:]
        if r.kind == "sheets-write" and f"/{book}" in r.path
    ]
    assert service_writes == [("POST", "values:batchUpdate")] * 2
