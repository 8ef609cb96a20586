"""relay local-run: exit codes 0/1/2, files written (or not), problems on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from relay_cli.local_run import main

CONFIG = {
    "tenant_id": "t1",
    "config_version": 4,
    "vendors": [
        {
            "vendor_id": "v1",
            "parser": {"column_map": {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}},
            "sku_map": {"type": "file", "path": "maps/v1.csv"},
        },
        {
            "vendor_id": "v2",
            "required": False,
            "parser": {"column_map": {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}},
        },
    ],
    "pricing": {"base_margin_pct": 0.20, "min_price": 1.00},
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "tenant.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "v1.csv").write_text("vendor_sku,sku\nA-1,SKU-1\n", encoding="utf-8")
    (tmp_path / "a.csv").write_bytes(b"SKU,QTY,COST\nA-1,5,10.00\nB,1,2\n")
    (tmp_path / "b.csv").write_bytes(b"SKU,QTY,COST\nB,9,1.50\n")
    return tmp_path


def args(root: Path, *extra: str) -> list[str]:
    return [
        "--config",
        str(root / "tenant.yaml"),
        "--out",
        str(root / "out"),
        "--as-of",
        "2026-01-01T00:00:00",
        *extra,
    ]


def test_success_writes_every_file(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        args(
            workspace, "--feed", f"v1={workspace / 'a.csv'}", "--feed", f"v2={workspace / 'b.csv'}"
        )
    )
    assert code == 0
    out = workspace / "out"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "errors.json",
        "merged_inventory.csv",
        "normalized/v1.csv",
        "normalized/v2.csv",
        "run_summary.json",
    ]
    assert (out / "merged_inventory.csv").read_text() == (
        "sku,quantity_available,price,vendor_id,updated_at\n"
        "B,9,1.80,v2,2026-01-01T00:00:00Z\n"
        "SKU-1,5,12.00,v1,2026-01-01T00:00:00Z\n"
    )
    summary = json.loads((out / "run_summary.json").read_text())
    assert (summary["run_id"], summary["config_version"], summary["as_of"]) == (
        "local-20260101T000000Z",
        4,
        "2026-01-01T00:00:00Z",
    )
    assert "succeeded" in capsys.readouterr().out


def test_same_inputs_same_bytes(workspace: Path) -> None:
    feeds = ["--feed", f"v1={workspace / 'a.csv'}", "--run-id", "fixed"]
    assert main(args(workspace, *feeds)) == 0
    first = {p.name: p.read_bytes() for p in (workspace / "out").rglob("*.*")}
    assert main(args(workspace, *feeds)) == 0
    second = {p.name: p.read_bytes() for p in (workspace / "out").rglob("*.*")}
    first_data = {k: v for k, v in first.items() if k != "run_summary.json"}
    assert first_data == {k: v for k, v in second.items() if k != "run_summary.json"}
    summaries = [json.loads(files["run_summary.json"]) for files in (first, second)]
    for summary in summaries:
        summary.pop("timings_ms")
    assert summaries[0] == summaries[1]


def test_failed_run_exits_1_and_writes_only_reports(workspace: Path) -> None:
    assert main(args(workspace, "--feed", f"v1={workspace / 'a.csv'}")) == 0
    assert main(args(workspace)) == 1  # v1 is required and has no feed
    out = workspace / "out"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "errors.json",
        "run_summary.json",
    ]
    assert json.loads((out / "errors.json").read_text())["errors"][0]["code"] == "missing_feed"


def test_missing_configured_map_is_a_feed_failure_not_a_usage_error(workspace: Path) -> None:
    (workspace / "maps" / "v1.csv").unlink()
    assert main(args(workspace, "--feed", f"v1={workspace / 'a.csv'}")) == 1
    errors = json.loads((workspace / "out" / "errors.json").read_text())["errors"]
    assert [e["code"] for e in errors] == ["sku_map_unavailable"]


def test_sku_map_argument_overrides_the_config(workspace: Path) -> None:
    (workspace / "other.csv").write_text("vendor_sku,sku\nA-1,OTHER\n")
    code = main(
        args(
            workspace,
            "--feed",
            f"v1={workspace / 'a.csv'}",
            "--sku-map",
            f"v1={workspace / 'other.csv'}",
        )
    )
    assert code == 0
    assert "OTHER,5" in (workspace / "out" / "merged_inventory.csv").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--feed", "zz=a.csv"], "unknown vendor 'zz'"),
        (["--feed", "v1=a.csv", "--feed", "v1=b.csv"], "given twice"),
        (["--feed", "v1=nope.csv"], "cannot be read"),
        (["--feed", "v1"], "expected VENDOR=PATH"),
        (["--sku-map", "v9=x.csv"], "unknown vendor 'v9'"),
        (["--as-of", "yesterday"], "not an ISO-8601 time"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(workspace)
    assert main(args(workspace, *extra)) == 2
    assert message in capsys.readouterr().err
    assert not (workspace / "out").exists()


def test_invalid_config_exits_2_with_every_problem(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_vendor = {"vendor_id": "v1", "parser": {"column_map": {}, "delimiter": ";;"}}
    bad = {**CONFIG, "vendors": [first_vendor]}
    (workspace / "tenant.yaml").write_text(yaml.safe_dump(bad))
    assert main(args(workspace)) == 2
    err = capsys.readouterr().err
    assert "vendors[0].parser.delimiter: must be one character" in err
    assert "vendors[0].parser.column_map: must map sku or vendor_sku" in err
    assert not (workspace / "out").exists()


def test_unreadable_config_exits_2(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "tenant.yaml").write_text("tenant_id: [unclosed")
    assert main(args(workspace)) == 2
    assert "not valid YAML" in capsys.readouterr().err
    assert main(["--config", str(workspace / "none.yaml"), "--out", str(workspace / "out")]) == 2


def test_without_as_of_now_is_used(workspace: Path) -> None:
    assert (
        main(
            [
                "--config",
                str(workspace / "tenant.yaml"),
                "--out",
                str(workspace / "out"),
                "--feed",
                f"v1={workspace / 'a.csv'}",
            ]
        )
        == 0
    )
    summary = json.loads((workspace / "out" / "run_summary.json").read_text())
    assert summary["as_of"] != "2026-01-01T00:00:00Z"
    assert summary["run_id"].startswith("local-")
