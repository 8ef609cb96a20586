"""Field rules, each case checked through ``normalize_feed`` (fast and dirty paths alike).

A case is one cell in an otherwise valid row; the expected value is what the normalized CSV
holds, or the rejection code.
"""

from __future__ import annotations

import pytest

from .engine_support import codes, csv_feed, make_config, normalize, normalized_rows, vendor

COLUMNS = [
    "sku",
    "vendor_sku",
    "vendor_id",
    "quantity_available",
    "lead_time_days",
    "cost",
    "map_price",
    "msrp",
    "condition",
    "brand",
    "title",
    "updated_at",
]
BASE = {
    "SKU": "A1",
    "QTY": "5",
    "COST": "10",
    "MAP": "",
    "MSRP": "",
    "LEAD": "",
    "COND": "new",
    "BRAND": "",
    "TITLE": "",
    "UPDATED": "",
}


Found = list[tuple[int | None, str | None, str]]


def _one_row(cell_header: str, cell: str, **parser: object) -> tuple[dict[str, str] | None, Found]:
    cells = {**BASE, cell_header: cell}
    header = ";".join(cells)
    raw = (header + "\n" + ";".join(cells.values()) + "\n").encode("utf-8")
    config = make_config(
        [vendor(parser={"delimiter": ";", **parser})],
        error_policy={"max_invalid_row_pct": "1"},
    )
    feed = normalize(raw, config)
    rows = normalized_rows(feed)
    if not rows:
        return None, codes(feed)
    return dict(zip(COLUMNS, rows[0], strict=True)), codes(feed)


def _value(header: str, field: str, cell: str, **parser: object) -> str:
    row, found = _one_row(header, cell, **parser)
    assert row is not None, found
    return row[field]


def _rejection(header: str, cell: str, **parser: object) -> str:
    row, found = _one_row(header, cell, **parser)
    assert row is None
    assert len(found) == 1
    assert found[0][0] == 2
    code: str = found[0][2]
    return code


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12", "12"),
        ("+12", "12"),
        (">10", "10"),
        (">= 10", "10"),
        (">=\u00a010", "10"),
        ("10+", "10"),
        ("12.0", "12"),
        ("12.00", "12"),
        (" 7 ", "7"),
        ("1,000", "1000"),
        ("1 000", "1000"),
        ("-0", "0"),
        ("In Stock", "10"),
        ("out of stock", "0"),
        ("007", "7"),
    ],
)
def test_quantity_values(cell: str, expected: str) -> None:
    words = {"in stock": 10, "Out Of Stock": 0}
    assert _value("QTY", "quantity_available", cell, quantity_words=words) == expected


@pytest.mark.parametrize("cell", ["N/A", "-", "ten", "12.5", "", "  ", "1,00", ">", "+", "1e3"])
def test_quantity_rejections(cell: str) -> None:
    assert _rejection("QTY", cell) == "invalid_quantity"


def test_negative_quantity_is_zero_with_a_warning() -> None:
    feed = normalize(csv_feed("A1,-4,1.00,,,,new,,,"))
    assert normalized_rows(feed)[0][3] == "0"
    assert codes(feed) == [(2, "quantity_available", "negative_quantity")]
    assert feed.warnings[0].value == "-4"


def test_minus_zero_has_no_warning() -> None:
    assert codes(normalize(csv_feed("A1,-0,1.00,,,,new,,,"))) == []


def test_decimal_comma_governs_quantities() -> None:
    assert _value("QTY", "quantity_available", "1.000", decimal_separator=",") == "1000"
    assert _value("QTY", "quantity_available", "12,0", decimal_separator=",") == "12"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12", "12.00"),
        ("12.5", "12.50"),
        (".99", "0.99"),
        ("12.", "12.00"),
        ("$12.34", "12.34"),
        ("12.34 $", "12.34"),
        ("USD 5", "5.00"),
        ("5usd", "5.00"),
        ("1,234.56", "1234.56"),
        ("1 234.56", "1234.56"),
        ("1'234.56", "1234.56"),
        ("1\u00a0234", "1234.00"),
        ("12.345", "12.35"),
        ("12.344", "12.34"),
        ("0.005", "0.01"),
        ("0.00", "0.00"),
        ("", ""),
        ("  ", ""),
        ("-0", "0.00"),
    ],
)
def test_money_values(cell: str, expected: str) -> None:
    assert _value("COST", "cost", cell) == expected


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("€12", "currency_mismatch"),
        ("12 EUR", "currency_mismatch"),
        ("£1", "currency_mismatch"),
        ("-1.00", "invalid_money"),
        ("abc", "invalid_money"),
        ("$$12", "invalid_money"),
        ("USD 12 USD", "invalid_money"),
        ("1,23", "invalid_money"),
        ("¥12", "invalid_money"),
    ],
)
def test_money_rejections(cell: str, code: str) -> None:
    assert _rejection("COST", cell) == code


def test_money_marker_must_be_the_vendors_currency() -> None:
    row, found = _one_row("COST", "€12,50", decimal_separator=",")
    config_currency = make_config([vendor(currency="EUR")])
    feed = normalize(csv_feed("A1,5,€12.50,,,,new,,,"), config_currency)
    assert normalized_rows(feed)[0][5] == "12.50"
    assert row is None
    assert found[0][2] == "currency_mismatch"


def test_decimal_comma_money() -> None:
    assert _value("COST", "cost", "1.234,5", decimal_separator=",") == "1234.50"
    assert _value("COST", "cost", "12,345", decimal_separator=",") == "12.35"


@pytest.mark.parametrize("header", ["MAP", "MSRP"])
def test_map_and_msrp_follow_the_money_rules(header: str) -> None:
    field = "map_price" if header == "MAP" else "msrp"
    assert _value(header, field, "$1,000") == "1000.00"
    assert _rejection(header, "€3") == "currency_mismatch"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("3", "3"),
        ("2 days", "2"),
        ("1 DAY", "1"),
        ("4d", "4"),
        ("1w", "7"),
        ("2 wk", "14"),
        ("3 Weeks", "21"),
        ("1 week", "7"),
        ("", ""),
    ],
)
def test_lead_time_values(cell: str, expected: str) -> None:
    assert _value("LEAD", "lead_time_days", cell) == expected


@pytest.mark.parametrize("cell", ["soon", "-1", "1.5", "2 months", "d"])
def test_lead_time_rejections(cell: str) -> None:
    assert _rejection("LEAD", cell) == "invalid_lead_time"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("new", "new"),
        ("N", "new"),
        ("Brand New", "new"),
        ("USED", "used"),
        ("pre-owned", "used"),
        ("Preowned", "used"),
        ("refurb", "refurb"),
        (" Refurbished ", "refurb"),
        ("renewed", "refurb"),
        ("reconditioned", "refurb"),
        ("", "new"),
        ("b-ware", "refurb"),
        ("Open Box", "used"),
    ],
)
def test_condition_values(cell: str, expected: str) -> None:
    words = {"B-Ware": "refurb", "Open Box": "used"}
    assert _value("COND", "condition", cell, condition_map=words) == expected


def test_condition_default_applies_to_empty_cells() -> None:
    assert _value("COND", "condition", "", defaults={"condition": "used"}) == "used"


def test_condition_rejection() -> None:
    assert _rejection("COND", "mint") == "invalid_condition"


def test_vendor_condition_map_wins_over_builtin_words() -> None:
    assert _value("COND", "condition", "new", condition_map={"NEW": "used"}) == "used"


def test_brand_and_title_are_trimmed_and_collapsed() -> None:
    assert _value("TITLE", "title", "  Big \t\u00a0 blue   box ") == "Big blue box"
    assert _value("BRAND", "brand", "\u2003Acme\u3000Co") == "Acme Co"
    assert _value("TITLE", "title", "   ") == ""


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-02-03T04:05:06Z", "2026-02-03T04:05:06Z"),
        ("2026-02-03T04:05:06.789Z", "2026-02-03T04:05:06Z"),
        ("2026-02-03T04:05:06+02:00", "2026-02-03T02:05:06Z"),
        ("2026-07-01T12:00:00", "2026-07-01T19:00:00Z"),
        ("2026-01-01 12:00", "2026-01-01T20:00:00Z"),
        ("2026-01-15", "2026-01-15T08:00:00Z"),
        ("", "2026-01-01T00:00:00Z"),
    ],
)
def test_timestamps_are_utc_and_naive_ones_in_the_tenant_zone(cell: str, expected: str) -> None:
    cells = {**BASE, "UPDATED": cell}
    raw = (",".join(cells) + "\n" + ",".join(cells.values()) + "\n").encode()
    config = make_config(timezone="America/Los_Angeles")
    assert normalized_rows(normalize(raw, config))[0][11] == expected


def test_unparseable_timestamp_is_as_of_with_a_warning() -> None:
    feed = normalize(csv_feed("A1,5,1.00,,,,new,,,yesterday"))
    assert normalized_rows(feed)[0][11] == "2026-01-01T00:00:00Z"
    assert codes(feed) == [(2, "updated_at", "invalid_timestamp")]
    assert normalize(csv_feed("A1,5,1.00,,,,new,,,2026-02-30T00:00:00Z")).warnings[0].code == (
        "invalid_timestamp"
    )


def test_without_a_timestamp_column_the_as_of_is_used() -> None:
    config = make_config(
        [vendor(parser={"column_map": {"sku": "SKU", "quantity_available": "QTY"}})]
    )
    feed = normalize(b"SKU,QTY\nA1,1\n", config)
    assert normalized_rows(feed) == [
        ["A1", "A1", "v1", "1", "", "", "", "", "new", "", "", "2026-01-01T00:00:00Z"]
    ]


def test_defaults_fill_empty_cells_of_any_field() -> None:
    config = make_config(
        [vendor(parser={"defaults": {"lead_time_days": "3 days", "brand": "Acme", "cost": "2"}})]
    )
    row = normalized_rows(normalize(csv_feed("A1,5,,,,,new,,,"), config))[0]
    assert (row[4], row[5], row[9]) == ("3", "2.00", "Acme")


@pytest.mark.parametrize(
    ("header", "cell", "code"),
    [
        ("QTY", "1" + "0" * 15 + "1", "invalid_quantity"),
        ("QTY", "9" * 30, "invalid_quantity"),
        ("COST", "1" + "0" * 13 + ".01", "invalid_money"),
        ("COST", "9" * 40, "invalid_money"),
        ("LEAD", "1" + "0" * 9 + "1", "invalid_lead_time"),
        ("LEAD", "9" * 9 + " weeks", "invalid_lead_time"),
    ],
)
def test_numbers_beyond_any_inventory_are_rejected(header: str, cell: str, code: str) -> None:
    assert _rejection(header, cell) == code


def test_largest_accepted_numbers() -> None:
    assert _value("QTY", "quantity_available", "1" + "0" * 15) == "1" + "0" * 15
    assert _value("COST", "cost", "1" + "0" * 13) == "1" + "0" * 13 + ".00"
    assert _value("LEAD", "lead_time_days", "1" + "0" * 9) == "1" + "0" * 9
