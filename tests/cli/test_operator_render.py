"""The operator CLI's views as pure functions of run snapshots: the watch view's bars, the
change lines, the summary, the run list, a 422's problems."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relay_cli.operator.client import GatewayAnswerError, error_from
from relay_cli.operator.models import parse_artifacts, parse_run
from relay_cli.operator.render import (
    as_text,
    change_lines,
    refusal_lines,
    run_list_lines,
    summary_lines,
    watch_view,
)

REQUESTED = "2026-12-05T10:00:00+00:00"
NOW = datetime(2026, 12, 5, 10, 0, 3, tzinfo=UTC)


def vendor(status: str, rows: int = 0, accepted: int = 0, rejected: int = 0) -> dict[str, Any]:
    return {"status": status, "rows": rows, "accepted": accepted, "rejected": rejected,
            "duplicates": 0}  # fmt: skip


def run_body(status: str, stage: str, vendors: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "run_id": "run_1", "tenant_id": "acme", "status": status, "stage": stage,
        "config_version": 2, "requested_at": REQUESTED, "started_at": REQUESTED,
        "finished_at": None, "vendors": vendors,
        "counts": {"merged_rows": None, "skus_left_out": None}, "error": None,
        "timings": {}, "attempts": {}, **extra,
    }  # fmt: skip


MERGING = parse_run(
    run_body("RUNNING", "merge", {"v2": vendor("pending"), "v1": vendor("ok", 2, 2)})
)
DONE = parse_run(
    run_body(
        "SUCCEEDED", "done", {"v1": vendor("ok", 2, 2), "v2": vendor("ok", 4, 3, 1)},
        finished_at="2026-12-05T10:00:01.250000+00:00",
        counts={"merged_rows": 3, "skus_left_out": 0},
    )
)  # fmt: skip
FAILED = parse_run(
    run_body(
        "FAILED", "merge", {"v1": vendor("failed")},
        finished_at="2026-12-05T10:00:00.500000+00:00",
        error={"code": "missing_column", "message": "no COST", "report_key": "r/errors.json"},
    )
)  # fmt: skip


def bar(filled: int) -> str:
    return "[" + "#" * filled + "-" * (30 - filled) + "]"


def test_the_view_has_a_bar_per_stage_and_vendor_waiting_ones_included() -> None:
    text = as_text(watch_view(MERGING, NOW, ["v1", "v2", "v3"], plain=True))
    assert text.splitlines() == [
        "run run_1  tenant acme  config v2  RUNNING  3.0s",
        f"stage  {bar(15)}  merge (3/6)",
        f"v1     {bar(20)}  ok                          rows 2  accepted 2  rejected 0  "
        "duplicates 0",
        f"v2     {bar(10)}  feed received, normalizing  rows 0  accepted 0  rejected 0  "
        "duplicates 0",
        f"v3     {bar(0)}  waiting for its feed",
    ]


def test_a_finished_run_fills_every_bar_and_stops_its_clock() -> None:
    text = as_text(watch_view(DONE, NOW, plain=True))
    assert text.splitlines() == [
        "run run_1  tenant acme  config v2  SUCCEEDED  1.2s",
        f"stage  {bar(30)}  done (6/6)",
        f"v1     {bar(30)}  ok, merged  rows 2  accepted 2  rejected 0  duplicates 0",
        f"v2     {bar(30)}  ok, merged  rows 4  accepted 3  rejected 1  duplicates 0",
    ]


def test_the_terminal_view_uses_rich_bars() -> None:
    text = as_text(watch_view(MERGING, NOW), width=100)
    assert text.splitlines()[1].startswith("stage  " + "━" * 15)


def test_change_lines_name_only_what_moved() -> None:
    assert change_lines(None, MERGING) == [
        "run RUNNING stage merge",
        "vendor v1 ok  rows 2  accepted 2  rejected 0  duplicates 0",
        "vendor v2 feed received, normalizing  rows 0  accepted 0  rejected 0  duplicates 0",
    ]
    assert change_lines(MERGING, MERGING) == []
    assert change_lines(MERGING, DONE) == [
        "run SUCCEEDED stage done",
        "vendor v1 ok, merged  rows 2  accepted 2  rejected 0  duplicates 0",
        "vendor v2 ok, merged  rows 4  accepted 3  rejected 1  duplicates 0",
    ]


def test_the_summary_ends_with_the_artifact_links() -> None:
    links = parse_artifacts(
        {"artifacts": [{"name": "merged_inventory.csv", "key": "k", "size": 157,
                        "url": "http://s3/k?sig", "expires_at": "2026-12-05T10:15:00Z"}]}
    )  # fmt: skip
    assert summary_lines(DONE, links) == [
        "run run_1 SUCCEEDED in 1.25s (tenant acme, config v2, stage done)",
        "  vendor  status  rows  accepted  rejected  duplicates",
        "  v1      ok      2     2         0         0",
        "  v2      ok      4     3         1         0",
        "  merged rows 3, skus left out 0",
        "artifacts (links valid until 2026-12-05T10:15:00+00:00):",
        "  merged_inventory.csv  157 B  http://s3/k?sig",
    ]
    assert summary_lines(FAILED)[-1] == "  error missing_column: no COST (report r/errors.json)"


def test_the_run_list() -> None:
    assert run_list_lines([DONE, FAILED, MERGING]) == [
        "RUN_ID  STATUS     STAGE  REQUESTED_AT               TOOK   MERGED  ERROR",
        "run_1   SUCCEEDED  done   2026-12-05T10:00:00+00:00  1.25s  3       -",
        "run_1   FAILED     merge  2026-12-05T10:00:00+00:00  0.50s  -       missing_column",
        "run_1   RUNNING    merge  2026-12-05T10:00:00+00:00  -      -       -",
    ]
    assert run_list_lines([]) == ["no runs"]


def test_a_422_lists_each_problem_by_path() -> None:
    body = (
        '{"error": {"code": "invalid_config", "message": "the config is not valid", '
        '"details": {"problems": [{"path": "vendors[1].parser.delimiter", "message": "one '
        'character"}, {"path": "", "message": "a mapping"}]}}}'
    )
    error = error_from("PUT", "/v1/tenants/acme/config", 422, body)
    assert refusal_lines(error) == [
        "the config is not valid (422 invalid_config)",
        "  vendors[1].parser.delimiter: one character",
        "  (document): a mapping",
    ]
    assert error_from("GET", "/x", 502, "<h1>Bad\n gateway</h1>") == GatewayAnswerError(
        "GET", "/x", 502, "unexpected_answer", "<h1>Bad gateway</h1>"
    )
