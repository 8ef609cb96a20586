"""normalize_feed: reading CSV, row numbers, SKUs and maps, duplicates, threshold, stats."""

from __future__ import annotations

import hashlib

import pytest

from relay_normalize.domain.clean import rows as clean_rows
from relay_shared.tenant_config import TenantConfig

from .engine_support import codes, csv_feed, make_config, normalize, normalized_rows, vendor

SIMPLE = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}


def simple_config(**parser: object) -> TenantConfig:
    return make_config(
        [vendor(parser={"column_map": dict(SIMPLE), **parser})],
        error_policy={"max_invalid_row_pct": "1"},
    )


def test_normalized_csv_shape() -> None:
    feed = normalize(csv_feed('a1,3,"1,234.5",20,30,2,used,Acme,"Big, red",2026-02-01T00:00:00Z'))
    assert feed.status == "ok"
    assert feed.normalized_csv == (
        b"sku,vendor_sku,vendor_id,quantity_available,lead_time_days,cost,map_price,msrp,"
        b"condition,brand,title,updated_at\n"
        b'A1,a1,v1,3,2,1234.50,20.00,30.00,used,Acme,"Big, red",2026-02-01T00:00:00Z\n'
    )


def test_headers_match_trimmed_and_case_insensitively() -> None:
    feed = normalize(b" sku ;Qty;cost\nA;1;2\n", simple_config(delimiter=";"))
    assert normalized_rows(feed)[0][:6] == ["A", "A", "v1", "1", "", "2.00"]


def test_missing_column_fails_the_feed_listing_the_headers() -> None:
    feed = normalize(b"SKU,QUANTITY\nA,1\n", simple_config())
    assert feed.status == "failed"
    assert feed.normalized_csv is None
    assert codes(feed) == [
        (None, "quantity_available", "missing_column"),
        (None, "cost", "missing_column"),
    ]
    assert feed.errors[0].value == "SKU, QUANTITY"
    assert feed.failure_code == "missing_column"


def test_lines_above_header_row_are_skipped_as_lines() -> None:
    raw = b'Export of "2026\nSKU,QTY,COST\nA,1,2\nB,2,3\n'
    feed = normalize(raw, simple_config(header_row=2))
    assert [row[0] for row in normalized_rows(feed)] == ["A", "B"]
    bad = normalize(b"junk\nSKU,QTY,COST\nA,x,2\n", simple_config(header_row=2))
    assert codes(bad) == [(3, "quantity_available", "invalid_quantity")]


def test_blank_records_are_skipped_and_take_no_number() -> None:
    raw = b"SKU,QTY,COST\n\nA,1,2\n   \n,,\n\t,\xc2\xa0,\nB,x,2\n"
    feed = normalize(raw, simple_config())
    assert codes(feed) == [(3, "quantity_available", "invalid_quantity")]
    assert feed.stats.rows == 2


def test_multi_line_records_count_once_and_crlf_works() -> None:
    raw = b'SKU,QTY,COST,TITLE\r\nA,1,2,"two\r\nlines, ""quoted"""\r\nB,x,2,t\r\n'
    config = make_config(
        [vendor(parser={"column_map": {**SIMPLE, "title": "TITLE"}})],
        error_policy={"max_invalid_row_pct": "1"},
    )
    feed = normalize(raw, config)
    assert codes(feed) == [(3, "quantity_available", "invalid_quantity")]
    assert b'"two lines, ""quoted"""' in (feed.normalized_csv or b"")


def test_utf8_bom_is_dropped() -> None:
    feed = normalize(b"\xef\xbb\xbfSKU,QTY,COST\nA,1,2\n", simple_config())
    assert feed.status == "ok"


def test_other_encodings_are_decoded() -> None:
    raw = "SKU;QTY;COST;TITLE\nÄ-1;1;2,50;Größe\n".encode("cp1252")
    config = make_config(
        [
            vendor(
                parser={
                    "column_map": {**SIMPLE, "title": "TITLE"},
                    "delimiter": ";",
                    "encoding": "cp1252",
                    "decimal_separator": ",",
                }
            )
        ]
    )
    row = normalized_rows(normalize(raw, config))[0]
    assert (row[0], row[5], row[10]) == ("Ä-1", "2.50", "Größe")


def test_undecodable_csv_is_unparseable() -> None:
    feed = normalize(b"SKU,QTY,COST\n\xff\xfe,1,2\n", simple_config())
    assert feed.status == "failed"
    assert codes(feed) == [(None, None, "unparseable_file")]


def test_leading_zeros_and_case() -> None:
    feed = normalize(b"SKU,QTY,COST\n00123,1,2\nab-c,1,2\n", simple_config())
    assert [row[:2] for row in normalized_rows(feed)] == [["00123", "00123"], ["AB-C", "ab-c"]]
    preserve = make_config([vendor(parser={"column_map": dict(SIMPLE)})], sku={"case": "preserve"})
    assert normalized_rows(normalize(b"SKU,QTY,COST\nab-c,1,2\n", preserve))[0][0] == "ab-c"


@pytest.mark.parametrize("sku", ["1.23E+11", "5e+3", "12.0E+04"])
def test_mangled_sku(sku: str) -> None:
    feed = normalize(f"SKU,QTY,COST\n{sku},1,2\n".encode(), simple_config())
    assert codes(feed) == [(2, "sku", "mangled_sku")]
    assert feed.errors[0].value == sku


def test_missing_sku() -> None:
    feed = normalize(b"SKU,QTY,COST\n  ,1,2\n", simple_config())
    assert codes(feed) == [(2, "sku", "missing_sku")]


def test_first_problem_in_field_order_only() -> None:
    feed = normalize(b"SKU,QTY,COST\n,x,abc\nA,x,abc\nB,1,abc\n", simple_config())
    assert codes(feed) == [
        (2, "sku", "missing_sku"),
        (3, "quantity_available", "invalid_quantity"),
        (4, "cost", "invalid_money"),
    ]


@pytest.mark.parametrize("grouped", [False, True], ids=["first-distinct", "grouped"])
def test_duplicates_first_wins_and_counts(grouped: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways of finding each SKU's first accepted row (large feeds use a group-by)."""
    if grouped:
        monkeypatch.setattr(clean_rows, "GROUPED_FIRSTS_ROWS", 0)
    raw = b"SKU,QTY,COST\nA,1,2\na,5,9\nB,x,1\nB,2,2\nB,3,3\n"
    feed = normalize(raw, simple_config())
    assert [row[:4] for row in normalized_rows(feed)] == [
        ["A", "A", "v1", "1"],
        ["B", "B", "v1", "2"],
    ]
    assert codes(feed) == [
        (4, "quantity_available", "invalid_quantity"),
        (3, "sku", "duplicate_sku"),
        (6, "sku", "duplicate_sku"),
    ]
    stats = feed.stats
    assert (stats.rows, stats.accepted, stats.rejected, stats.duplicates) == (5, 2, 1, 2)
    assert stats.rows == stats.accepted + stats.rejected + stats.duplicates
    assert stats.warnings == 2


def test_warnings_only_for_accepted_rows() -> None:
    feed = normalize(b"SKU,QTY,COST\n,-1,\nA,-1,\n", simple_config())
    assert codes(feed) == [
        (2, "sku", "missing_sku"),
        (3, "quantity_available", "negative_quantity"),
        (3, "cost", "missing_cost"),
    ]


def test_sha256_is_of_the_input_bytes() -> None:
    raw = b"SKU,QTY,COST\nA,1,2\n"
    assert normalize(raw, simple_config()).stats.sha256 == hashlib.sha256(raw).hexdigest()


def test_empty_feed_passes() -> None:
    feed = normalize(b"SKU,QTY,COST\n", simple_config())
    assert (feed.status, feed.stats.rows) == ("ok", 0)
    assert normalized_rows(feed) == []


def test_too_many_invalid_rows() -> None:
    config = make_config(
        [vendor(parser={"column_map": dict(SIMPLE)})], error_policy={"max_invalid_row_pct": "0.25"}
    )
    ok = normalize(b"SKU,QTY,COST\nA,1,1\nB,1,1\nC,1,1\nD,x,1\n", config)
    assert ok.status == "ok"
    failed = normalize(b"SKU,QTY,COST\nA,1,1\nB,1,1\nD,x,1\n", config)
    assert failed.status == "failed"
    assert failed.normalized_csv is None
    assert codes(failed) == [
        (None, None, "too_many_invalid_rows"),
        (4, "quantity_available", "invalid_quantity"),
    ]
    assert (failed.stats.rows, failed.stats.rejected) == (3, 1)


MAP = b"vendor_sku,sku\nA-1,SKU-1\n A-2 ,SKU-1\nlow,mapped-low\n"


def test_sku_map_passthrough() -> None:
    config = make_config(
        [vendor(parser={"column_map": dict(SIMPLE)}, sku_map={"type": "file", "path": "m.csv"})]
    )
    feed = normalize(b"SKU,QTY,COST\nA-1,1,1\nA-2,1,1\na-1,1,1\nlow,1,1\n", config, sku_map=MAP)
    rows = normalized_rows(feed)
    assert [row[:2] for row in rows] == [["SKU-1", "A-1"], ["A-1", "a-1"], ["MAPPED-LOW", "low"]]
    assert codes(feed) == [(3, "sku", "duplicate_sku")]


def test_sku_map_reject() -> None:
    sku_map = {"type": "inline", "entries": {"A-1": "SKU-1"}, "on_missing": "reject"}
    config = make_config(
        [vendor(parser={"column_map": dict(SIMPLE)}, sku_map=sku_map)],
        error_policy={"max_invalid_row_pct": "1"},
    )
    feed = normalize(b"SKU,QTY,COST\nA-1,1,1\nB-2,1,1\n", config)
    assert [row[0] for row in normalized_rows(feed)] == ["SKU-1"]
    assert codes(feed) == [(3, "sku", "unmapped_sku")]
    assert feed.errors[0].value == "B-2"


def test_sku_map_looked_up_with_vendor_sku_when_both_are_mapped() -> None:
    column_map = {"sku": "OUR", "vendor_sku": "THEIRS", "quantity_available": "QTY"}
    config = make_config(
        [
            vendor(
                parser={"column_map": column_map},
                sku_map={"type": "inline", "entries": {"t1": "M1"}},
            )
        ]
    )
    feed = normalize(b"OUR,THEIRS,QTY\nx1,t1,1\nx2,t2,1\n", config)
    assert [row[:2] for row in normalized_rows(feed)] == [["M1", "t1"], ["X2", "t2"]]


def test_sku_map_conflict_fails_the_feed() -> None:
    config = make_config(
        [vendor(parser={"column_map": dict(SIMPLE)}, sku_map={"type": "file", "path": "m.csv"})]
    )
    feed = normalize(b"SKU,QTY,COST\nA,1,1\n", config, sku_map=b"vendor_sku,sku\nA,X\nA,Y\n")
    assert (feed.status, codes(feed)) == ("failed", [(None, None, "sku_map_conflict")])
    assert feed.errors[0].value == "A"


@pytest.mark.parametrize("raw_map", [b"\xff\xfe", b"from,to\nA,B\n", b"vendor_sku,sku\nA,\n", b""])
def test_unreadable_sku_map_fails_the_feed(raw_map: bytes) -> None:
    config = make_config(
        [vendor(parser={"column_map": dict(SIMPLE)}, sku_map={"type": "file", "path": "m.csv"})]
    )
    feed = normalize(b"SKU,QTY,COST\nA,1,1\n", config, sku_map=raw_map)
    assert (feed.status, codes(feed)) == ("failed", [(None, None, "sku_map_unavailable")])


def test_configured_map_file_missing_is_unavailable() -> None:
    config = make_config(
        [
            vendor(
                parser={"column_map": dict(SIMPLE)},
                sku_map={"type": "file", "s3_key": "tenants/t1/config/k.csv"},
            )
        ]
    )
    feed = normalize(b"SKU,QTY,COST\nA,1,1\n", config, sku_map=None)
    assert (feed.status, codes(feed)) == ("failed", [(None, None, "sku_map_unavailable")])


def test_given_map_without_configured_map_is_used_with_passthrough() -> None:
    feed = normalize(
        b"SKU,QTY,COST\nA,1,1\nB,1,1\n", simple_config(), sku_map=b"vendor_sku,sku\nA,Z\n"
    )
    assert [row[0] for row in normalized_rows(feed)] == ["Z", "B"]


def test_finding_value_is_cut_to_200_characters() -> None:
    long_cell = "x" * 300
    feed = normalize(f"SKU,QTY,COST\nA,{long_cell},1\n".encode(), simple_config())
    assert feed.errors[0].value == "x" * 200


def test_unknown_vendor_raises() -> None:
    with pytest.raises(KeyError):
        normalize(b"", simple_config(), vendor_id="nope")


def test_a_quote_inside_an_unquoted_field_is_a_character() -> None:
    config = make_config(
        [vendor(parser={"column_map": {**SIMPLE, "title": "T"}})],
        error_policy={"max_invalid_row_pct": "1"},
    )
    feed = normalize(b'SKU,QTY,COST,T\nA,1,2,5" screen\nB,1,2,"x, y"\n\nC,z,1,t\n', config)
    assert feed.normalized_csv is not None
    assert b'A,A,v1,1,,2.00,,,new,,"5"" screen"' in feed.normalized_csv
    assert b'"x, y"' in feed.normalized_csv
    assert codes(feed) == [(4, "quantity_available", "invalid_quantity")]


@pytest.mark.parametrize("body", [b'A,1,2,"unterminated\nB,1,2,t\n', b'A,1,2,"x"y\n'])
def test_broken_quoting_is_unparseable(body: bytes) -> None:
    config = make_config([vendor(parser={"column_map": {**SIMPLE, "title": "T"}})])
    feed = normalize(b"SKU,QTY,COST,T\n" + body, config)
    assert codes(feed) == [(None, None, "unparseable_file")]
