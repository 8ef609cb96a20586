"""``relay local-run --explain SKU`` on the golden runs: every SKU's explained price is the
merged file's, and each offer comes with its row as read (number and raw cells)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import polars as pl
import pytest

from relay_cli.explain import explain_sku
from relay_cli.local_run import execute, main
from relay_cli.local_run_args import parse_arguments
from relay_cli.local_run_inputs import resolve_run
from relay_shared.explain.answer import ExplainOut
from tests.golden.golden_cases import CASES, ROOT

WESTCOAST = ROOT / "us_bom_crlf_multiline"


def _argv(name: str, out: Path, *extra: str) -> list[str]:
    case = ROOT / name
    feeds = []
    for token in shlex.split((case / "args.txt").read_text(encoding="utf-8")):
        vendor, sep, path = token.partition("=")
        feeds.append(f"{vendor}={case / path}" if sep else token)
    return [
        "--config",
        str(case / "tenant.yaml"),
        "--out",
        str(out),
        "--as-of",
        "2026-01-01T00:00:00Z",
        "--run-id",
        f"golden-{name}",
        *feeds,
        *extra,
    ]


@pytest.mark.parametrize("name", CASES)
def test_every_sku_of_a_golden_run_is_explained_at_its_merged_price(
    name: str, tmp_path: Path
) -> None:
    run = resolve_run(parse_arguments(_argv(name, tmp_path, "--explain", "any")))
    outputs = execute(run)
    merged = pl.read_csv(tmp_path / "merged_inventory.csv", infer_schema=False).to_dicts()

    for row in merged:
        answer = explain_sku(run, outputs, row["sku"])
        assert isinstance(answer, ExplainOut), row["sku"]
        assert answer.price_cents is not None
        assert f"{answer.price_cents // 100}.{answer.price_cents % 100:02d}" == row["price"]
        assert answer.merge.winner == row.get("vendor_id", answer.merge.winner)
        assert str(answer.merge.quantity_available) == row["quantity_available"]
        for offer in answer.offers:
            assert offer.as_read is not None, (row["sku"], offer.vendor_id)
    assert merged


def test_local_run_prints_the_explain_with_the_row_as_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_argv(WESTCOAST.name, tmp_path, "--explain", "ACME-TW-38"))
    first, _, rest = capsys.readouterr().out.partition("\n")
    answer = json.loads(rest)

    assert code == 0
    assert first.startswith("run golden-us_bom_crlf_multiline succeeded: 5 rows")
    assert answer["offers"][0]["as_read"] == {
        "row": 3,
        "cells": {
            "Item #": "W-002",
            "Our SKU": "",
            "Avail": "3",
            "Cost": "50.00",
            "MAP": "80.00",
            "MSRP": "",
            "Lead": "1w",
            "Cond": "refurbished",
            "Brand": "Acme",
            "Description": 'Torque wrench\r\n"Pro" edition\r\n3/8 in',
        },
    }
    assert [(s["step"], s["input_cents"], s["output_cents"]) for s in answer["steps"]] == [
        ("shipping", 5000, 5999),
        ("base_margin", 5999, 7499),
        ("min_price", 7499, 8000),
        ("rounding", 8000, 7999),
        ("map_floor", 7999, 8099),
    ]
    assert answer["price_cents"] == 8099


def test_a_rejected_sku_names_its_finding_and_an_absent_one_says_so(tmp_path: Path) -> None:
    run = resolve_run(parse_arguments(_argv(WESTCOAST.name, tmp_path, "--explain", "W-004")))
    outputs = execute(run)

    rejected = explain_sku(run, outputs, "W-004")
    absent = explain_sku(run, outputs, "NOPE")

    assert rejected.model_dump(mode="json") == {
        "sku": "W-004",
        "status": "rejected",
        "message": "SKU W-004 was rejected by normalize: invalid_quantity",
        "findings": [
            {
                "vendor_id": "westcoast",
                "row": 5,
                "column": "quantity_available",
                "code": "invalid_quantity",
                "message": "the quantity is not a whole number",
                "value": "in stock",
            }
        ],
    }
    assert absent.model_dump(mode="json") == {
        "sku": "NOPE",
        "status": "never_present",
        "message": "SKU NOPE is in no vendor's offers of this run",
        "findings": [],
    }


def test_without_explain_local_run_builds_no_index(tmp_path: Path) -> None:
    run = resolve_run(parse_arguments(_argv(WESTCOAST.name, tmp_path)))
    assert run.explain is None
    assert execute(run).explain is None
