"""A workbook saved with its rows' kept XML (``xlsx_writer``) is byte for byte the workbook
openpyxl saves, on its first save, after edits of every kind, and when nothing changed; and
only the rows an edit changed are written again."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zipfile import ZipFile

from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.styles import Font

from relay_sheets.adapters.xlsx_writer import RowXml, save_workbook

#: set from the save's clock, so it differs between two saves
MODIFIED = "docProps/core.xml"


def _parts(data: bytes) -> dict[str, bytes]:
    with ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != MODIFIED}


def _saved_by_openpyxl(workbook: Workbook) -> dict[str, bytes]:
    stream = io.BytesIO()
    workbook.save(stream)
    return _parts(stream.getvalue())


def _saved_keeping_rows(workbook: Workbook, rows: RowXml) -> dict[str, bytes]:
    stream = io.BytesIO()
    save_workbook(workbook, stream, rows)
    return _parts(stream.getvalue())


def _values(rng: random.Random) -> list[object]:
    return [
        f"SKU-{rng.randrange(10_000):05d}",
        " padded text ",
        rng.randrange(-5, 500),
        rng.random() * 100,
        float(rng.randrange(10)),  # 3.0 is written "3.0", unlike 3
        Decimal("12.50"),
        rng.random() < 0.5,
        datetime(2026, 11, 2, 9, 30) + timedelta(minutes=rng.randrange(10_000)),
        date(2026, 1, 1) + timedelta(days=rng.randrange(300)),
        None,
        "<&> \"quoted\" 'single'",
    ]


def _workbook(rng: random.Random) -> Workbook:
    workbook = Workbook()
    orders = workbook.active
    orders.title = "Orders"
    for _ in range(300):
        orders.append(_values(rng))
    orders["B7"].font = Font(bold=True)
    orders["C20"], orders["C21"] = 3, 1
    orders.row_dimensions[9].height = 30
    listings = workbook.create_sheet("Listings")
    for n in range(200):
        listings.append([f"SKU-{n:05d}", f"Oak side table {n}", n % 40, "active"])
    listings["A3"].hyperlink = "https://example.com/sku/3"
    listings["B5"].comment = Comment("checked", "relay")
    return workbook


def _edit(workbook: Workbook, rng: random.Random) -> None:
    """Edits of every kind a row's XML depends on."""
    orders, listings = workbook["Orders"], workbook["Listings"]
    orders["C10"] = 7
    orders["C11"] = 7.0  # the same number as another type
    orders["A12"] = " SKU-00012"
    orders["D13"] = None
    orders["E14"].font = Font(italic=True)
    orders.row_dimensions[15].height = 24
    orders["K16"] = True
    orders["C20"], orders["C21"] = 3.0, True  # equal values of other types
    for _ in range(40):
        orders.append(_values(rng))
    listings["C20"] = 0
    listings["A21"].hyperlink = "https://example.com/sku/21"
    listings["A3"].hyperlink = None


def test_saves_keeping_rows_are_openpyxls_saves() -> None:
    rng = random.Random(15)
    workbook = _workbook(rng)
    rows = RowXml()

    assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    assert (rows.written, rows.reused) == (500, 0)  # 300 Orders rows, 200 Listings rows

    _edit(workbook, rng)
    assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    # written: Orders' 9 edited rows and 40 new ones; Listings' C20, A21 (a hyperlink now),
    # A3 (no longer: kept from now on) and B5 (a comment, written each time)
    assert (rows.written, rows.reused) == (500 + 53, 291 + 196)

    assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    assert (rows.written, rows.reused) == (553 + 2, 487 + 538)  # B5 and A21 again


def test_rich_text_is_written_each_time() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["plain", 1])
    sheet.append([CellRichText(["rich ", TextBlock(InlineFont(b=True), "bold")]), 2])
    rows = RowXml()
    for _ in range(2):
        assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    assert (rows.written, rows.reused) == (3, 1)


def test_dates_follow_the_workbooks_date_setting() -> None:
    """A row of dates kept as serial numbers is written again once the workbook writes ISO
    dates."""
    workbook = Workbook()
    workbook.active.append([datetime(2026, 11, 2, 9, 30), date(2026, 1, 5)])
    rows = RowXml()
    assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    workbook.iso_dates = True
    assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    assert (rows.written, rows.reused) == (2, 0)


def test_cells_made_out_of_order_are_written_in_order() -> None:
    """The writer orders rows and cells itself (not as openpyxl does, by the same rule):
    cells made from the last row up and from the last column left, a row that only has a
    height, and rows that only have cells far apart are saved as openpyxl saves them."""
    workbook = Workbook()
    sheet = workbook.active
    for row in range(60, 0, -1):
        for column in (9, 4, 1):
            sheet.cell(row=row, column=column, value=row * column)
    sheet["C3"] = "made last, between columns"
    sheet["Z200"] = "far away"
    sheet.row_dimensions[80].height = 18  # no cell in row 80
    rows = RowXml()

    assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    assert (rows.written, rows.reused) == (62, 0)  # rows 1-60, 80 and 200

    sheet["B1"] = "a cell before the row's first"
    assert _saved_keeping_rows(workbook, rows) == _saved_by_openpyxl(workbook)
    assert (rows.written, rows.reused) == (63, 61)
