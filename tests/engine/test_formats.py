"""XLSX, JSON and JSONL feeds."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from relay_shared.xlsx_reading import cell_text

from .engine_support import codes, make_config, normalize, normalized_rows, vendor

MAP = {"sku": "sku", "quantity_available": "qty", "cost": "cost", "title": "title"}


def config(fmt: str, **parser: object):  # type: ignore[no-untyped-def]
    return make_config(
        [vendor(parser={"format": fmt, "column_map": MAP, **parser})],
        error_policy={"max_invalid_row_pct": "1"},
    )


def workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_become_text() -> None:
    assert cell_text(100234.0) == "100234"
    assert cell_text(12.5) == "12.5"
    assert cell_text(0.1 + 0.2) == "0.30000000000000004"
    assert cell_text(7) == "7"
    assert cell_text(True) == "true"
    assert cell_text(date(2026, 1, 2)) == "2026-01-02"
    assert cell_text(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05"
    assert cell_text(None) is None


def test_xlsx_sheet_rows_and_numbers() -> None:
    raw = workbook(
        ("Other", [["nothing"]]),
        (
            "Feed",
            [
                ["Exported"],
                ["SKU", "Qty", "Cost", "Title"],
                [100234.0, 5.0, 12.5, "A"],
                [],
                ["x", "n/a", 1, None],
            ],
        ),
    )
    feed = normalize(raw, config("xlsx", sheet="Feed", header_row=2))
    assert normalized_rows(feed) == [
        ["100234", "100234", "v1", "5", "", "12.50", "", "", "new", "", "A", "2026-01-01T00:00:00Z"]
    ]
    assert codes(feed) == [(5, "quantity_available", "invalid_quantity")]  # sheet row numbers


def test_xlsx_sheet_by_index_and_default_first() -> None:
    raw = workbook(
        ("One", [["SKU", "QTY", "COST", "TITLE"], ["a", 1, 1, "t"]]),
        ("Two", [["sku", "qty", "cost", "title"], ["b", 1, 1, "t"]]),
    )
    assert normalized_rows(normalize(raw, config("xlsx")))[0][0] == "A"
    assert normalized_rows(normalize(raw, config("xlsx", sheet=1)))[0][0] == "B"
    missing = normalize(raw, config("xlsx", sheet="Nope"))
    assert codes(missing) == [(None, None, "unparseable_file")]


def test_xlsx_reads_cached_formula_values() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "qty", "cost", "title"])
    sheet.append(["a", "=1+1", 3, "t"])
    buffer = io.BytesIO()
    book.save(buffer)
    feed = normalize(buffer.getvalue(), config("xlsx"))
    # openpyxl stores no cached value, so the cell is empty (never the formula text)
    assert codes(feed) == [(2, "quantity_available", "invalid_quantity")]
    assert feed.errors[0].value is None


def test_not_an_xlsx_is_unparseable() -> None:
    assert codes(normalize(b"SKU,QTY\n", config("xlsx"))) == [(None, None, "unparseable_file")]


def test_json_array_of_objects_with_exact_numbers() -> None:
    raw = (
        b'[{"sku": "a", "qty": 3, "cost": 12.10, "title": true}, '
        b'{"sku": "b", "qty": 1, "cost": 1e2}, {"qty": 1, "sku": "c", "cost": 0.125}]'
    )
    feed = normalize(raw, config("json"))
    rows = normalized_rows(feed)
    assert [(row[0], row[5], row[10]) for row in rows] == [
        ("A", "12.10", "true"),
        ("C", "0.13", ""),
    ]
    assert codes(feed) == [(2, "cost", "invalid_money")]  # 1e2 is not a plain decimal number


def test_json_columns_are_the_union_of_keys_and_rows_numbered_by_position() -> None:
    raw = json.dumps(
        [{"sku": "a", "qty": "1", "cost": "1"}, {"title": "t", "sku": "b", "qty": "x", "cost": "1"}]
    )
    feed = normalize(raw.encode(), config("json"))
    assert codes(feed) == [(2, "quantity_available", "invalid_quantity")]


def test_a_mapped_key_absent_from_every_object_is_a_missing_column() -> None:
    feed = normalize(b'[{"sku": "a", "qty": 1, "cost": 1}]', config("json"))
    assert codes(feed) == [(None, "title", "missing_column")]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"sku": "a"}',
        b"[1, 2]",
        b'[{"sku": "a", "qty": {"n": 1}, "cost": 1}]',
        b"not json",
        b"[NaN]",
    ],
)
def test_json_that_is_not_an_array_of_flat_objects_is_unparseable(raw: bytes) -> None:
    assert codes(normalize(raw, config("json"))) == [(None, None, "unparseable_file")]


def test_nested_value_in_an_unmapped_column_is_ignored() -> None:
    raw = b'[{"sku": "a", "qty": 1, "cost": 1, "title": null, "extra": {"x": 1}}]'
    assert normalize(raw, config("json")).status == "ok"


def test_jsonl_rows_are_numbered_by_physical_line() -> None:
    raw = (
        b'{"sku": "a", "qty": 1, "cost": 2}\n\n'
        b'{"sku": "b", "qty": "many", "cost": 2, "title": "t"}\n'
    )
    feed = normalize(raw, config("jsonl"))
    assert [row[0] for row in normalized_rows(feed)] == ["A"]
    assert codes(feed) == [(3, "quantity_available", "invalid_quantity")]


def test_jsonl_bad_line_is_unparseable() -> None:
    feed = normalize(b'{"sku": "a", "qty": 1, "cost": 2}\n{oops\n', config("jsonl"))
    assert codes(feed) == [(None, None, "unparseable_file")]
    assert "line 2" in feed.errors[0].message


def test_json_null_is_an_empty_cell() -> None:
    feed = normalize(b'[{"sku": "a", "qty": 1, "cost": null, "title": null}]', config("json"))
    assert normalized_rows(feed)[0][5] == ""


@pytest.mark.parametrize(("fmt", "raw"), [("json", b"[]"), ("jsonl", b"\n\n")])
def test_json_without_objects_is_an_empty_feed(fmt: str, raw: bytes) -> None:
    feed = normalize(raw, config(fmt))
    assert (feed.status, feed.stats.rows) == ("ok", 0)
    assert normalized_rows(feed) == []


def test_empty_csv_file_has_no_header() -> None:
    feed = normalize(b"", make_config([vendor(parser={"column_map": MAP})]))
    assert [code for _, _, code in codes(feed)] == ["missing_column"] * 4
