"""The shared hand-off models: a finding, errors.json, run_summary.json and a vendor report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest

from relay_shared.events import VendorCounts
from relay_shared.findings import VALUE_LIMIT, Finding
from relay_shared.run_reports import ErrorsReport, RunSummary, VendorSummary
from relay_shared.vendor_report import VendorReport


def test_a_feed_level_finding_has_no_row_or_column_and_a_cut_value() -> None:
    item = Finding.feed_level("v1", "feed_drift", "m", value="x" * 300)
    assert (item.row, item.column, item.value) == (None, None, "x" * VALUE_LIMIT)
    long = Finding("v1", 3, "sku", "c", "m", "y" * 201)
    assert long.cut().value == "y" * VALUE_LIMIT
    short = Finding("v1", 3, "sku", "c", "m", "y")
    assert short.cut() is short


def test_errors_json_reads_back_into_its_model() -> None:
    report = ErrorsReport(
        errors=[Finding.feed_level("v1", "missing_feed", "the vendor's feed is missing")],
        warnings=[Finding("v2", 4, "cost", "missing_cost", "no cost", None)],
    )
    assert ErrorsReport.model_validate_json(report.to_json_bytes()) == report


def test_a_finding_refuses_unknown_and_missing_keys() -> None:
    item = {"vendor_id": "v", "row": 1, "column": None, "code": "c", "message": "m"}
    with pytest.raises(pydantic.ValidationError):
        ErrorsReport.model_validate({"errors": [item], "warnings": []})
    with pytest.raises(pydantic.ValidationError):
        ErrorsReport.model_validate({"errors": [{**item, "value": None, "x": 1}], "warnings": []})


def test_run_summary_layout_and_as_of_in_utc_seconds() -> None:
    as_of = datetime(2026, 1, 1, 2, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))
    summary = RunSummary(
        run_id="r",
        tenant_id="t",
        config_version=None,
        as_of=as_of,
        status="succeeded",
        vendors={"v1": VendorSummary.of("ok", VendorCounts(rows=2, accepted=2, sha256="ab"))},
        merged_rows=2,
        skus_left_out=["Z"],
        timings_ms={"normalize": 3},
    )
    document = summary.to_json_bytes()
    assert document.endswith(b"}\n")
    data = json.loads(document)
    assert list(data) == [
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
    assert data["as_of"] == "2026-01-01T00:00:00Z"
    assert data["vendors"]["v1"] == {
        "status": "ok",
        "rows": 2,
        "accepted": 2,
        "rejected": 0,
        "duplicates": 0,
        "warnings": 0,
        "sha256": "ab",
    }
    assert summary.vendors["v1"].counts() == VendorCounts(rows=2, accepted=2, sha256="ab")
    naive = summary.model_copy(update={"as_of": datetime(2026, 1, 1)})
    assert json.loads(naive.to_json_bytes())["as_of"] == "2026-01-01T00:00:00Z"
    assert RunSummary.model_validate_json(document).as_of == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_vendor_report_holds_the_one_finding_model() -> None:
    item = {"vendor_id": "v", "row": 2, "column": "sku", "code": "c", "message": "m", "value": "x"}
    report = VendorReport.model_validate(
        {"vendor_id": "v", "status": "ok", "stats": {}, "errors": [item], "warnings": []}
    )
    assert report.errors == [Finding("v", 2, "sku", "c", "m", "x")]
    assert VendorReport.model_validate_json(report.to_json_bytes()) == report
    assert json.loads(report.to_json_bytes())["errors"] == [item]
