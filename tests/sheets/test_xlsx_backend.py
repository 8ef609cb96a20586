"""The xlsx backend on real files: creation, upserts, merchant edits, atomic saves."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.domain.grid import RowChange, WorksheetUpsert
from relay_sheets.domain.layout import CHANNEL_WORKSHEETS, ORDERS, channel_spreadsheet

REF = channel_spreadsheet("t1", "amazon")


def values(path: Path, sheet: str) -> list[list[object]]:
    return [list(r) for r in load_workbook(path)[sheet].iter_rows(values_only=True)]


async def test_ensure_creates_the_channel_workbook_with_headers(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)

    await backend.ensure_spreadsheet(REF, CHANNEL_WORKSHEETS)

    path = tmp_path / "t1" / "amazon" / "Inventory – amazon.xlsx"
    assert load_workbook(path).sheetnames == ["Listings", "Orders", "Insights"]
    assert values(path, "Orders") == [["order_id", "sku", "quantity", "shipped_at"]]
    assert await backend.read_rows(REF, ORDERS) == []
    assert sorted(p.name for p in path.parent.iterdir()) == [
        ".Inventory – amazon.xlsx.lock",
        "Inventory – amazon.xlsx",
    ]


async def test_upserts_keep_merchant_cells_and_replays_change_nothing(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)
    path = backend.path_for(REF)
    first = WorksheetUpsert(ORDERS, [RowChange(("O-1", "A"), {"quantity": 1, "shipped_at": "t"})])
    await backend.upsert_rows(REF, [first])
    workbook = load_workbook(path)
    workbook["Orders"]["E1"] = "carrier"
    workbook["Orders"]["E2"] = "UPS"
    workbook["Orders"].append(["mine", None, None, None, "note"])
    workbook.save(path)
    second = WorksheetUpsert(
        ORDERS,
        [
            RowChange(("O-1", "A"), {"quantity": 2, "shipped_at": "t"}),
            RowChange(("O-2", "B"), {"quantity": 5, "shipped_at": "u"}),
        ],
    )

    await backend.upsert_rows(REF, [second])
    await backend.upsert_rows(REF, [second])

    assert values(path, "Orders") == [
        ["order_id", "sku", "quantity", "shipped_at", "carrier"],
        ["O-1", "A", 2, "t", "UPS"],
        ["mine", None, None, None, "note"],
        ["O-2", "B", 5, "u", None],
    ]
    assert await backend.read_rows(REF, ORDERS) == [
        ["O-1", "A", 2, "t"],
        ["mine", None, None, None],
        ["O-2", "B", 5, "u"],
    ]


async def test_a_failed_save_leaves_the_previous_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = XlsxBackend(tmp_path)
    path = backend.path_for(REF)
    await backend.upsert_rows(
        REF, [WorksheetUpsert(ORDERS, [RowChange(("O-1", "A"), {"quantity": 1})])]
    )
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("relay_sheets.adapters.xlsx_backend.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await backend.upsert_rows(
            REF, [WorksheetUpsert(ORDERS, [RowChange(("O-9", "Z"), {"quantity": 9})])]
        )

    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".xlsx"] == [path.name]
