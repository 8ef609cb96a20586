"""The diff from one merged feed to another (config preview, ``local-run --compare-to``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from relay_cli.local_run import main
from relay_pricing.domain.changes import read_feed_text
from relay_pricing.domain.feed_diff import FeedDiff, feed_diff

from .test_local_run import CONFIG, args, workspace  # noqa: F401 (the fixture)

OLD = (
    b"sku,quantity_available,price,vendor_id\n"
    b"A,5,10.00,v1\nB,0,20.00,v2\nC,3,30.00,v1\nD,1,5.00,v2\nF,2,7.00,v1\n"
)
NEW = (
    b"sku,quantity_available,price,vendor_id\n"
    b"A,0,11.00,v2\nB,4,20.00,v2\nC,3,27.00,v1\nE,2,8.00,v2\nF,2,7.00,v1\n"
)


def _diff(old: bytes, new: bytes) -> dict[str, object]:
    return feed_diff(read_feed_text(old), read_feed_text(new)).model_dump(mode="json")


def test_every_figure_of_a_diff() -> None:
    assert _diff(OLD, NEW) == {
        "rows_before": 5,
        "rows_after": 5,
        "added": 1,
        "removed": 1,
        "changed": 3,
        "unchanged": 1,
        "columns_changed": {"quantity_available": 2, "price": 2, "vendor_id": 1},
        "price_changes": {
            "count": 2,
            "cents": {"min": -300, "p50": 100, "p95": 100, "max": 100},
            "pct": {"min": -10.0, "p50": 10.0, "p95": 10.0, "max": 10.0},
        },
        "to_out_of_stock": 1,
        "back_in_stock": 1,
        "vendor_wins": {
            "v1": {"before": 3, "after": 2, "delta": -1},
            "v2": {"before": 2, "after": 3, "delta": 1},
        },
        "largest": [
            {
                "sku": "C",
                "old_price": "30.00",
                "new_price": "27.00",
                "change_cents": -300,
                "change_pct": -10.0,
                "old_vendor": "v1",
                "new_vendor": "v1",
            },
            {
                "sku": "A",
                "old_price": "10.00",
                "new_price": "11.00",
                "change_cents": 100,
                "change_pct": 10.0,
                "old_vendor": "v1",
                "new_vendor": "v2",
            },
        ],
    }


def test_a_feed_against_itself_changes_nothing() -> None:
    diff = FeedDiff.model_validate(_diff(OLD, OLD))
    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == (0, 0, 0, 5)
    assert diff.columns_changed == {}
    assert (diff.price_changes.count, diff.price_changes.cents, diff.largest) == (0, None, [])
    assert (diff.to_out_of_stock, diff.back_in_stock, diff.vendor_wins) == (0, 0, {})


def test_a_price_from_zero_has_no_percentage() -> None:
    diff = _diff(b"sku,price\nA,0.00\n", b"sku,price\nA,2.50\n")
    assert diff["price_changes"] == {
        "count": 1,
        "cents": {"min": 250, "p50": 250, "p95": 250, "max": 250},
        "pct": None,
    }
    assert (diff["vendor_wins"], diff["to_out_of_stock"]) == ({}, 0)


def test_local_run_compare_to_prints_the_diff_and_writes_diff_csv(
    workspace: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    feeds = ["--feed", f"v1={workspace / 'a.csv'}", "--feed", f"v2={workspace / 'b.csv'}"]
    assert main(args(workspace, *feeds)) == 0
    capsys.readouterr()
    dearer = {**CONFIG, "pricing": {"base_margin_pct": 0.30, "min_price": 1.00}}
    (workspace / "tenant.yaml").write_text(yaml.safe_dump(dearer), encoding="utf-8")
    out = workspace / "out"
    assert main(args(workspace, *feeds, "--compare-to", str(out))) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.index("{") :])
    assert {k: summary[k] for k in ("added", "removed", "changed", "unchanged")} == {
        "added": 0,
        "removed": 0,
        "changed": 2,
        "unchanged": 0,
    }
    assert summary["columns_changed"] == {"price": 2}
    assert [(c["sku"], c["old_price"], c["new_price"]) for c in summary["largest"]] == [
        ("SKU-1", "12.00", "13.00"),
        ("B", "1.80", "1.95"),
    ]
    assert (out / "diff.csv").read_text() == (
        "sku,column,old,new\nB,price,1.80,1.95\nSKU-1,price,12.00,13.00\n"
    )


def test_compare_to_a_folder_without_a_merged_feed_is_a_usage_error(
    workspace: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(args(workspace, "--feed", f"v1={workspace / 'a.csv'}", "--compare-to", "/nope"))
    assert code == 2
    assert "--compare-to /nope/merged_inventory.csv: cannot be read" in capsys.readouterr().err
