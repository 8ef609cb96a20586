"""Run assembly: files, statuses, errors.json order, run_summary.json, output formats."""

from __future__ import annotations

import hashlib
import json

import pytest

from relay_pricing.domain import build_run_outputs

from .engine_support import (
    AS_OF,
    errors,
    make_config,
    merged_lines,
    normalize,
    run,
    summary,
    to_input,
    vendor,
)

MAP = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
GOOD = b"SKU,QTY,COST\nA,1,10.00\n"
BAD = b"SKU,QTY,COST\nA,x,1\n"


def two_vendors(required_b: bool = True, **sections: object):  # type: ignore[no-untyped-def]
    return make_config(
        [
            vendor("a", parser={"column_map": MAP}),
            vendor("b", parser={"column_map": MAP}, required=required_b),
        ],
        **sections,
    )


def test_succeeded_run_files_and_summary() -> None:
    feed_b = b"SKU,QTY,COST\nB,2,5\nB,3,5\n"
    outputs = run(two_vendors(), {"a": GOOD, "b": feed_b})
    assert outputs.status == "succeeded"
    assert sorted(outputs.files) == ["errors.json", "merged_inventory.csv", "run_summary.json"]
    document = summary(outputs)
    assert list(document) == [
        "run_id",
        "tenant_id",
        "config_version",
        "as_of",
        "status",
        "vendors",
        "merged_rows",
        "skus_left_out",
        "timings_ms",
    ]
    assert document["run_id"] == "r1"
    assert document["tenant_id"] == "t1"
    assert document["config_version"] == 7
    assert document["as_of"] == "2026-01-01T00:00:00Z"
    assert document["status"] == "succeeded"
    assert document["merged_rows"] == 2
    assert document["timings_ms"] == {"normalize": 1}
    assert document["vendors"]["b"] == {
        "status": "ok",
        "rows": 2,
        "accepted": 1,
        "rejected": 0,
        "duplicates": 1,
        "warnings": 1,
        "sha256": hashlib.sha256(feed_b).hexdigest(),
    }


def test_merged_csv_format() -> None:
    column_map = {**MAP, "title": "T", "map_price": "M", "lead_time_days": "L", "brand": "BR"}
    cfg = make_config(
        [vendor("a", parser={"column_map": column_map})],
        output={
            "columns": [
                "sku",
                "title",
                "price",
                "map_price",
                "lead_time_days",
                "brand",
                "updated_at",
            ]
        },
    )
    raw = b'SKU,QTY,COST,T,M,L,BR\nA,1,10,"Say ""hi"", you",12,,\n'
    outputs = run(cfg, {"a": raw})
    assert outputs.files["merged_inventory.csv"] == (
        b"sku,title,price,map_price,lead_time_days,brand,updated_at\n"
        b'A,"Say ""hi"", you",12.00,12.00,,,2026-01-01T00:00:00Z\n'
    )


def test_json_output_also_writes_the_csv() -> None:
    column_map = {**MAP, "lead_time_days": "L"}
    cfg = make_config(
        [vendor("a", parser={"column_map": column_map})],
        output={
            "format": "json",
            "columns": ["sku", "quantity_available", "lead_time_days", "price", "cost"],
        },
    )
    outputs = run(cfg, {"a": b"SKU,QTY,COST,L\nA,3,10,\nB,1,0.5,2\n"})
    assert "merged_inventory.csv" in outputs.files
    assert outputs.files["merged_inventory.json"] == (
        b'[\n  {\n    "sku": "A",\n    "quantity_available": 3,\n    "lead_time_days": null,\n'
        b'    "price": "12.00",\n    "cost": "10.00"\n  },\n'
        b'  {\n    "sku": "B",\n    "quantity_available": 1,\n    "lead_time_days": 2,\n'
        b'    "price": "0.60",\n    "cost": "0.50"\n  }\n]\n'
    )


def test_failed_required_vendor_fails_the_run_but_every_vendor_is_read() -> None:
    cfg = make_config(
        [vendor("a", parser={"column_map": MAP}), vendor("b", parser={"column_map": MAP})],
        error_policy={"max_invalid_row_pct": "0"},
    )
    outputs = run(cfg, {"a": BAD, "b": b"SKU,QTY,COST\nB,-1,\n"})
    assert outputs.status == "failed"
    assert sorted(outputs.files) == ["errors.json", "run_summary.json"]
    document = summary(outputs)
    assert (document["status"], document["merged_rows"], document["skus_left_out"]) == (
        "failed",
        0,
        [],
    )
    assert document["vendors"]["a"]["status"] == "failed"
    assert document["vendors"]["b"]["status"] == "ok"
    found = errors(outputs)
    assert [(e["vendor_id"], e["row"], e["code"]) for e in found["errors"]] == [
        ("a", None, "too_many_invalid_rows"),
        ("a", 2, "invalid_quantity"),
    ]
    assert [(w["vendor_id"], w["code"]) for w in found["warnings"]] == [
        ("b", "negative_quantity"),
        ("b", "missing_cost"),
    ]


def test_required_vendor_without_feed_is_missing_feed() -> None:
    outputs = run(two_vendors(), {"a": GOOD, "b": None})
    assert outputs.status == "failed"
    assert errors(outputs)["errors"] == [
        {
            "vendor_id": "b",
            "row": None,
            "column": None,
            "code": "missing_feed",
            "message": "the vendor's feed is missing",
            "value": None,
        }
    ]
    assert summary(outputs)["vendors"]["b"] == {
        "status": "failed",
        "rows": 0,
        "accepted": 0,
        "rejected": 0,
        "duplicates": 0,
        "warnings": 0,
        "sha256": None,
    }


def test_absent_vendor_counts_as_missing() -> None:
    outputs = run(two_vendors(), {"a": GOOD})
    assert [e["code"] for e in errors(outputs)["errors"]] == ["missing_feed"]


def test_optional_vendor_missing_or_failed_is_skipped() -> None:
    outputs = run(two_vendors(required_b=False), {"a": GOOD, "b": None})
    assert outputs.status == "succeeded"
    assert summary(outputs)["vendors"]["b"]["status"] == "skipped"
    assert errors(outputs) == {
        "errors": [],
        "warnings": [
            {
                "vendor_id": "b",
                "row": None,
                "column": None,
                "code": "vendor_skipped",
                "message": "the optional vendor was skipped (missing_feed)",
                "value": "missing_feed",
            }
        ],
    }
    cfg = two_vendors(required_b=False, error_policy={"max_invalid_row_pct": "0"})
    failed = run(cfg, {"a": GOOD, "b": b"SKU,QTY,COST\nB,x,1\nC,-1,1\n"})
    assert failed.status == "succeeded"
    assert merged_lines(failed)[1:] == ["A,1,12.00,a,2026-01-01T00:00:00Z"]
    found = errors(failed)
    assert [(e["row"], e["code"]) for e in found["errors"]] == [
        (None, "too_many_invalid_rows"),
        (2, "invalid_quantity"),
    ]
    assert [(w["row"], w["code"], w["value"]) for w in found["warnings"]] == [
        (None, "vendor_skipped", "too_many_invalid_rows"),
        (3, "negative_quantity", "-1"),
    ]


def test_errors_ordered_by_vendor_in_config_order_then_feed_level_then_row() -> None:
    cfg = make_config(
        [
            vendor("z", parser={"column_map": MAP}),
            vendor("a", parser={"column_map": MAP}, required=False),
        ],
        error_policy={"max_invalid_row_pct": "1"},
    )
    outputs = run(cfg, {"z": b"SKU,QTY,COST\nA,x,1\nB,1,\nC,y,1\n", "a": b"SKU,QTY\nA,1\n"})
    found = errors(outputs)
    assert [(e["vendor_id"], e["row"], e["code"]) for e in found["errors"]] == [
        ("z", 2, "invalid_quantity"),
        ("z", 4, "invalid_quantity"),
        ("a", None, "missing_column"),
    ]
    assert found["errors"][2]["column"] == "cost"
    assert [(w["vendor_id"], w["row"], w["code"]) for w in found["warnings"]] == [
        ("z", 3, "missing_cost"),
        ("a", None, "vendor_skipped"),
    ]


def test_errors_json_layout_is_one_item_per_line() -> None:
    outputs = run(two_vendors(required_b=False), {"a": b"SKU,QTY,COST\nA,-1,1\n", "b": None})
    text = outputs.files["errors.json"].decode()
    assert text == (
        '{\n  "errors": [],\n  "warnings": [\n'
        '    {"vendor_id": "a", "row": 2, "column": "quantity_available", '
        '"code": "negative_quantity", "message": "a negative quantity was read as 0", '
        '"value": "-1"},\n'
        '    {"vendor_id": "b", "row": null, "column": null, "code": "vendor_skipped", '
        '"message": "the optional vendor was skipped (missing_feed)", '
        '"value": "missing_feed"}\n  ]\n}\n'
    )
    assert json.loads(text)["errors"] == []


def test_same_inputs_give_the_same_bytes() -> None:
    cfg = two_vendors()
    first = run(cfg, {"a": GOOD, "b": BAD})
    second = run(cfg, {"a": GOOD, "b": BAD})
    assert first.files == second.files


def test_all_optional_vendors_skipped_gives_an_empty_inventory() -> None:
    cfg = make_config([vendor("a", parser={"column_map": MAP}, required=False)])
    outputs = run(cfg, {"a": None})
    assert outputs.status == "succeeded"
    assert (
        outputs.files["merged_inventory.csv"]
        == b"sku,quantity_available,price,vendor_id,updated_at\n"
    )


def test_unknown_vendor_is_refused() -> None:
    feed = to_input(normalize(GOOD, two_vendors(), vendor_id="a"))
    with pytest.raises(ValueError, match="not in the config: x"):
        build_run_outputs(
            two_vendors(),
            run_id="r",
            as_of=AS_OF,
            config_version=None,
            feeds={"x": feed},
            timings_ms={},
        )


def test_config_version_null_and_as_of_in_utc() -> None:
    from datetime import datetime, timedelta, timezone

    feed = to_input(normalize(GOOD, two_vendors(), vendor_id="a"))
    as_of = datetime(2026, 1, 1, 2, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))
    outputs = build_run_outputs(
        two_vendors(required_b=False),
        run_id="r",
        as_of=as_of,
        config_version=None,
        feeds={"a": feed},
        timings_ms={},
    )
    document = summary(outputs)
    assert (document["config_version"], document["as_of"]) == (None, "2026-01-01T00:00:00Z")
