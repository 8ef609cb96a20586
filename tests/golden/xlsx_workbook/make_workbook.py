"""Writes inputs/supplier.xlsx (committed; rerun only to change it: the bytes change).

uv run python tests/golden/xlsx_workbook/make_workbook.py
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

ROWS: list[list[object]] = [
    ["Supplier price list", None, None, None, None, None],
    ["Part", "On hand", "Unit cost", "Lead (days)", "Title", "Updated"],
    [100234.0, 12.0, 4.5, 3, "Hex bolt M8", datetime(2025, 12, 30, 8, 15, 0)],
    ["A-77", 0, 19.99, None, "Washer pack", date(2025, 12, 29)],
    [None, None, None, None, None, None],
    ["A-78", 2.5, 3, 1, "Half a crate", None],
    ["A-79", 8, "12,00", 2, "Comma cost", None],
    ["1.5E+12", 4, 1, 1, "Scientific", None],
    ["A-80", 6, 0.1, "2w", "Float cost", None],
]


def main() -> None:
    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["This sheet is not the feed"])
    sheet = book.create_sheet("Prices")
    for row in ROWS:
        sheet.append(row)
    target = Path(__file__).parent / "inputs" / "supplier.xlsx"
    target.parent.mkdir(exist_ok=True)
    book.save(target)


if __name__ == "__main__":
    main()
