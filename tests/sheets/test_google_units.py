"""The Google backend's pure parts: the quota window, the back-off, value ranges, the host
rewrite, the checks of an uploaded listing sheet, the scan cursor and folder sharing."""

from __future__ import annotations

import pytest
import requests

from relay_sheets.adapters.google_transport import HostRewritingAdapter
from relay_sheets.domain.folders import SharingChange, sharing_change
from relay_sheets.domain.google_ranges import cells_after, from_google, value_ranges
from relay_sheets.domain.grid import CellWrite
from relay_sheets.domain.quota import RequestWindow, backoff_delay
from relay_sheets.domain.uploads import next_scan_cursor, sheet_problems, summary


def test_the_window_admits_each_limit_per_minute_and_holds_during_a_pause() -> None:
    window = RequestWindow((3, 300))
    assert [window.wait_for(t) for t in (0.0, 1.0, 2.0)] == [0.0, 0.0, 0.0]
    assert window.wait_for(3.0) == 57.0  # the first request leaves the window at 60 s
    assert window.wait_for(60.0) == 0.0
    window.pause(61.0, 4.0)
    assert window.wait_for(62.0) == 3.0
    assert window.wait_for(65.0) == 0.0


@pytest.mark.parametrize(
    ("attempt", "jitter", "delay"),
    [(0, 0.0, 1.0), (1, 0.5, 2.5), (5, 0.9, 32.9), (6, 0.2, 64.0), (30, 0.7, 64.0)],
)
def test_backoff_is_two_to_the_n_plus_jitter_capped_at_64_s(
    attempt: int, jitter: float, delay: float
) -> None:
    assert backoff_delay(attempt, jitter) == pytest.approx(delay)


def test_writes_become_few_ranges_blanks_as_empty_text() -> None:
    writes = [
        CellWrite(5, 1, "A-9"),
        CellWrite(5, 2, None),
        CellWrite(5, 3, 4),
        CellWrite(6, 1, "B-9"),
        CellWrite(6, 2, "x"),
        CellWrite(6, 3, 1),
        CellWrite(2, 3, 7),
        CellWrite(2, 7, "2026-03-01T13:00:00Z"),
    ]
    assert value_ranges("Listings", writes) == [
        {"range": "'Listings'!C2:C2", "values": [[7]]},
        {"range": "'Listings'!G2:G2", "values": [["2026-03-01T13:00:00Z"]]},
        {"range": "'Listings'!A5:C6", "values": [["A-9", "", 4], ["B-9", "x", 1]]},
    ]
    assert value_ranges("It's", [CellWrite(1, 28, "h")]) == [
        {"range": "'It''s'!AB1:AB1", "values": [["h"]]}
    ]
    assert [from_google(v) for v in ("", 3, 2.5, "t", True)] == [None, 3, 2.5, "t", "TRUE"]


def test_cells_after_counts_grids_grown_by_writes() -> None:
    grids = {"Listings": (1000, 26)}
    writes = {"Listings": [CellWrite(1500, 2, "x")], "Orders": [CellWrite(2, 30, 1)]}
    assert cells_after(grids, writes) == 1500 * 26 + 1000 * 30


def test_the_adapter_sends_google_hosts_to_the_fake_and_keeps_path_and_query() -> None:
    adapter = HostRewritingAdapter("http://127.0.0.1:9")  # nothing listens on port 9
    request = requests.Request(
        "GET", "https://sheets.googleapis.com/v4/spreadsheets/x?a=1"
    ).prepare()
    with pytest.raises(requests.ConnectionError, match=r"127\.0\.0\.1"):
        adapter.send(request, timeout=0.5)
    assert request.url == "http://127.0.0.1:9/v4/spreadsheets/x?a=1"
    other = requests.Request("GET", "https://127.0.0.1:9/x").prepare()
    with pytest.raises(requests.ConnectionError):
        adapter.send(other, timeout=0.5)
    assert other.url == "https://127.0.0.1:9/x"
    with pytest.raises(ValueError, match="not an http"):
        HostRewritingAdapter("ftp://x")


def test_an_uploaded_sheet_is_refused_for_formulas_merges_or_length_in_its_sku_column() -> None:
    rows = [["", ""], ["Name", " SKU "], ["a", "=B1"], ["b", "K-2"], ["c", ""]]
    merges = [{"startRowIndex": 3, "endRowIndex": 5, "startColumnIndex": 1, "endColumnIndex": 2}]
    problems = sheet_problems(rows, merges, max_rows=10)
    assert summary(problems) == (
        "row 3, sku: is a formula (=B1): type the sku as text;"
        " row 4, sku: merged cells (rows 4 to 5): unmerge them"
    )
    assert sheet_problems([["sku"], ["A"], ["B"]], [], max_rows=1)[0].message.startswith(
        "the sheet has 2 data rows, above the limit of 1"
    )
    assert sheet_problems([["item"], ["=1"]], [], max_rows=10) == []


@pytest.mark.parametrize(
    ("read", "retry", "cursor"),
    [
        (["t1", "t2"], [], "t2"),  # everything read: past the newest
        (["t1", "t3"], ["t2"], "t1"),  # t2 must be read again: stop before it
        (["t2"], ["t1"], "t0"),  # the oldest failed: the cursor stays
        (["t2", "t2"], ["t2"], "t0"),  # same time as the failure: listed again
        ([], [], "t0"),
    ],
)
def test_the_scan_cursor_never_passes_a_file_to_read_again(
    read: list[str], retry: list[str], cursor: str
) -> None:
    assert next_scan_cursor("t0", read, retry) == cursor


def test_sharing_adds_new_addresses_and_revokes_only_what_relay_granted() -> None:
    assert sharing_change(["ops@m.com", "old@m.com"], ["OPS@m.com ", "new@m.com"]) == (
        SharingChange(add=("new@m.com",), revoke=("old@m.com",))
    )
    assert not sharing_change(["a@m.com"], ["A@M.com"])
    assert sharing_change(["a@m.com"], []) == SharingChange(add=(), revoke=("a@m.com",))
