"""errors.json of a run that fails outside the engine: the engine's own layout, one cause."""

from __future__ import annotations

import json

from relay_shared.errors import PermanentError
from relay_shared.findings import Finding
from relay_shared.run_failure import failure_report
from relay_shared.run_reports import ErrorsReport


def test_a_failure_report_names_its_one_cause_in_the_engines_layout() -> None:
    error = PermanentError("config version 7 of t-1 does not exist", code="config_missing")

    report = failure_report(error, "v1")

    item = {
        "vendor_id": "v1",
        "row": None,
        "column": None,
        "code": "config_missing",
        "message": "config version 7 of t-1 does not exist",
        "value": None,
    }
    assert json.loads(report) == {"errors": [item], "warnings": []}
    assert report == ErrorsReport(errors=[Finding(**item)], warnings=[]).to_json_bytes()


def test_a_failure_before_any_vendor_names_no_vendor() -> None:
    report = failure_report(PermanentError("unknown vendor 'x'", code="unknown_vendor"))

    assert json.loads(report)["errors"] == [
        {
            "vendor_id": None,
            "row": None,
            "column": None,
            "code": "unknown_vendor",
            "message": "unknown vendor 'x'",
            "value": None,
        }
    ]
