"""relay_shared.listings: a channel's listings file parsed, validated, made canonical."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from relay_shared.listings import (
    Listing,
    ListingProblem,
    ListingsError,
    ListingsLimits,
    canonical_csv,
    listings_key,
    parse_listing_rows,
    parse_listings,
)


def _problems(data: bytes, limits: ListingsLimits | None = None) -> list[ListingProblem]:
    with pytest.raises(ListingsError) as caught:
        parse_listings(data, limits or ListingsLimits())
    return list(caught.value.problems)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_with_headers_in_any_case_and_unknown_columns() -> None:
    data = (
        "\ufeff SKU ,Title,Quantity,Notes,STATUS,listed_date\r\n"
        "B-2,Blue mug,3,fragile,Paused,2026-01-15\r\n"
        "\r\n"
        'A-1,"Red, big",0,,,\r\n'
    ).encode()
    listings = parse_listings(data)
    assert list(listings) == [
        Listing("A-1", "Red, big", 0, "active", None),
        Listing("B-2", "Blue mug", 3, "paused", date(2026, 1, 15)),
    ]
    assert canonical_csv(listings) == (
        b'sku,title,quantity,status,listed_date\nA-1,"Red, big",0,active,\n'
        b"B-2,Blue mug,3,paused,2026-01-15\n"
    )


def test_semicolon_csv_and_xlsx_give_the_same_canonical_csv() -> None:
    csv_data = b"sku;quantity;listed_date;title\nK-9;12;2025-06-01;Kettle\n"
    xlsx_data = _xlsx(
        [
            ["sku", "quantity", "listed_date", "title"],
            ["K-9", 12.0, datetime(2025, 6, 1), "Kettle"],
        ]
    )
    from_csv = canonical_csv(parse_listings(csv_data))
    assert from_csv == canonical_csv(parse_listings(xlsx_data))
    assert from_csv == b"sku,title,quantity,status,listed_date\nK-9,Kettle,12,active,2025-06-01\n"


def test_every_bad_cell_is_reported_with_row_and_column() -> None:
    data = (
        b"sku,title,quantity,status,listed_date\n"
        b"A,ok,1,active,2026-13-01\n"
        b"B,ok,-4,active,2026-01-01\n"
        b"C,ok,2.5,sold,2026-01-01\n"
        b"A,again,1,active,2026-01-01\n"
        b",no sku,1,active,\n"
    )
    assert _problems(data) == [
        ListingProblem(2, "listed_date", "must be a date YYYY-MM-DD (got '2026-13-01')"),
        ListingProblem(3, "quantity", "must not be negative (got -4)"),
        ListingProblem(4, "quantity", "must be a whole number ≥ 0 (got '2.5')"),
        ListingProblem(4, "status", "must be one of active, paused, delisted (got 'sold')"),
        ListingProblem(5, "sku", "duplicate sku 'A' (first on row 2)"),
        ListingProblem(6, "sku", "is blank"),
    ]


def test_missing_required_columns_are_named() -> None:
    assert _problems(b"SKU_CODE,title,qty\nA,x,1\n") == [
        ListingProblem(1, "sku", "missing column"),
        ListingProblem(1, "quantity", "missing column"),
    ]


def test_ten_thousand_columns_are_refused() -> None:
    header = ",".join(["sku", "quantity", *(f"c{i}" for i in range(9_998))])
    assert _problems(f"{header}\nA,1\n".encode()) == [
        ListingProblem(1, None, "the header has 10000 columns, above the limit of 200")
    ]


def test_ten_thousand_columns_in_xlsx_are_refused() -> None:
    data = _xlsx([["sku", "quantity", *(f"c{i}" for i in range(9_998))], ["A", 1]])
    assert _problems(data) == [
        ListingProblem(1, None, "the header has 10000 columns, above the limit of 200")
    ]


def test_too_many_rows_and_too_many_bytes() -> None:
    data = b"sku,quantity\n" + b"".join(f"S{i},1\n".encode() for i in range(6))
    assert _problems(data, ListingsLimits(max_rows=5)) == [
        ListingProblem(7, None, "more than the limit of 5 rows")
    ]
    assert _problems(data, ListingsLimits(max_bytes=10)) == [
        ListingProblem(None, None, f"the file has {len(data)} bytes, above the limit of 10")
    ]


def test_a_zip_bomb_is_refused_before_unpacking() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 2_000_000)
    problems = _problems(out.getvalue(), ListingsLimits(max_unpacked_bytes=1_000_000))
    assert problems == [
        ListingProblem(
            None, None, "the workbook unpacks to 2000000 bytes, above the limit of 1000000"
        )
    ]


def test_garbage_and_empty_files() -> None:
    assert _problems(b"PK\x03\x04garbage") == [
        ListingProblem(None, None, "not a readable XLSX workbook")
    ]
    assert _problems(b"\xff\xfe\x00") == [
        ListingProblem(None, None, "the file is neither XLSX nor UTF-8 text (byte 0)")
    ]
    assert _problems(b"\n\n") == [ListingProblem(None, None, "the file has no header row")]


def test_problems_beyond_the_cap_are_counted() -> None:
    data = b"sku,quantity\n" + b"".join(f"S{i},x\n".encode() for i in range(12))
    with pytest.raises(ListingsError) as caught:
        parse_listings(data, ListingsLimits(max_problems=10))
    assert len(caught.value.problems) == 10
    assert caught.value.more == 2


def test_rows_from_a_sheet_and_the_key() -> None:
    listings = parse_listing_rows(
        [(1, ["sku", "quantity", "status"]), (2, ["Z", 4, "DELISTED"]), (3, [None, None])]
    )
    assert list(listings) == [Listing("Z", "", 4, "delisted", None)]
    assert listings_key("t1", "ebay", "ab" * 32) == f"tenants/t1/listings/ebay/{'ab' * 32}.csv"
