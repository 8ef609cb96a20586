"""When a due cron time that waits for vendors starts, and what a fresh feed is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relay_ingest.domain.schedules import (
    DueSchedule,
    LastPin,
    LatestFeed,
    is_fresh,
    start_reason,
)

DUE = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
WAITS = DueSchedule("t1", 1, DUE, ("v1", "v2"), max_wait_min=30)


def test_no_listed_vendor_starts_on_the_cron() -> None:
    assert start_reason(DueSchedule("t1", 1, DUE), DUE, None) == "cron"


def test_listed_vendors_start_when_fresh_or_when_the_wait_is_over() -> None:
    assert start_reason(WAITS, DUE + timedelta(minutes=1), ["v2"]) is None
    assert start_reason(WAITS, DUE + timedelta(minutes=1), None) is None
    assert start_reason(WAITS, DUE + timedelta(minutes=1), []) == "vendors_fresh"
    assert start_reason(WAITS, DUE + timedelta(minutes=30), ["v2"]) == "max_wait"
    assert start_reason(WAITS, DUE + timedelta(minutes=30), None) == "max_wait"
    no_wait = DueSchedule("t1", 1, DUE, ("v1",), max_wait_min=0)
    assert start_reason(no_wait, DUE, ["v1"]) == "max_wait"


def test_a_feed_is_fresh_unless_it_is_what_the_latest_run_pinned() -> None:
    pinned_at = DUE - timedelta(hours=1)
    pin = LastPin("k/1", pinned_at)
    assert not is_fresh(None, None)
    assert is_fresh(LatestFeed("k/1", pinned_at - timedelta(hours=1)), None)
    assert is_fresh(LatestFeed("k/1", pinned_at), LastPin(None, pinned_at))
    assert not is_fresh(LatestFeed("k/1", pinned_at - timedelta(seconds=1)), pin)
    assert not is_fresh(LatestFeed("k/1", pinned_at), pin)
    assert is_fresh(LatestFeed("k/1", pinned_at + timedelta(seconds=1)), pin)  # written again
    assert is_fresh(LatestFeed("k/2", pinned_at - timedelta(hours=2)), pin)
