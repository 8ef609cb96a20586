"""Pricing's pure decisions around the engine: the event that announces a merge, and the
drift guard over a run's feeds (frames in, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from relay_pricing.domain import MISSING, FeedInput, VendorFeed, build_run_outputs
from relay_pricing.domain.announcement import announcement, first_error
from relay_pricing.domain.drift import DRIFT_CODE, FeedBaseline, fresh_baselines, guard_drift
from relay_shared.events import OffersMerged, RowsNormalized, RunFailed, VendorCounts

from .engine_support import AS_OF, make_config, normalize, run, to_input, vendor

MAP = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
GOOD = b"SKU,QTY,COST\nA,1,10.00\nB,0,5.00\n"
BAD = b"SKU,QTY,COST\nA,x,1\n"
WRITTEN = {
    name: f"k/{name}" for name in ("merged_inventory.csv", "errors.json", "run_summary.json")
}


def _config(required_b: bool = True):  # type: ignore[no-untyped-def]
    return make_config(
        [
            vendor("a", parser={"column_map": MAP}),
            vendor("b", parser={"column_map": MAP}, required=required_b),
        ]
    )


def _event() -> RowsNormalized:
    return RowsNormalized(
        event_id="rows.normalized:r1:a",
        occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
        tenant_id="t1",
        correlation_id="c1",
        run_id="r1",
        scope_id="r1",
        vendor_id="a",
        config_version=7,
        status="ok",
        normalized_key=None,
        findings_key="f/a",
        counts=VendorCounts(),
        as_of=AS_OF,
    )


def test_a_succeeded_run_announces_offers_merged_with_the_summary_counts() -> None:
    outputs = run(_config(), {"a": GOOD, "b": GOOD})
    event = announcement(_event(), outputs, WRITTEN)
    assert isinstance(event, OffersMerged)
    assert (event.event_id, event.merged_key, event.merged_rows) == (
        "offers.merged:r1",
        "k/merged_inventory.csv",
        2,
    )
    assert event.vendors["a"] == VendorCounts(
        rows=2, accepted=2, sha256=outputs.summary.vendors["a"].sha256
    )


def test_a_failed_run_announces_its_first_feed_level_error() -> None:
    outputs = run(_config(), {"a": GOOD, "b": BAD})
    event = announcement(_event(), outputs, WRITTEN)
    assert isinstance(event, RunFailed)
    assert (event.event_id, event.code, event.report_key) == (
        "run.failed:r1",
        "too_many_invalid_rows",
        "k/errors.json",
    )
    assert event.message.startswith("vendor b: too many rows were rejected")
    missing = run(_config(), {"a": GOOD, "b": None})
    assert first_error(missing) == ("missing_feed", "vendor b: the vendor's feed is missing")


def _feeds() -> dict[str, FeedInput]:
    config = _config()
    return {v: to_input(normalize(GOOD, config, vendor_id=v)) for v in ("a", "b")}


def test_only_this_runs_good_feeds_get_baselines() -> None:
    feeds = _feeds()
    feeds["c"] = MISSING
    assert fresh_baselines(feeds, ["a", "c"]) == {
        "a": FeedBaseline.of_sets(2, frozenset({"A", "B"}), frozenset({"A"}))
    }


def test_a_drifted_feed_is_refused_and_a_required_vendor_fails_the_run() -> None:
    feeds = _feeds()
    current = fresh_baselines(feeds, ["a", "b"])
    previous = {"b": FeedBaseline.of_sets(10, frozenset({"A", "B"}), frozenset({"A", "B"}))}
    guarded = guard_drift(feeds, current, previous)
    assert guarded["a"] is feeds["a"]
    refused = guarded["b"]
    assert isinstance(refused, VendorFeed)
    assert (refused.status, refused.report.failure_code, refused.offers) == (
        "failed",
        DRIFT_CODE,
        None,
    )
    outputs = build_run_outputs(
        _config(), run_id="r", as_of=AS_OF, config_version=1, feeds=guarded, timings_ms={}
    )
    assert outputs.status == "failed"
    assert first_error(outputs)[0] == DRIFT_CODE
    optional = build_run_outputs(
        _config(required_b=False),
        run_id="r",
        as_of=AS_OF,
        config_version=1,
        feeds=guarded,
        timings_ms={},
    )
    assert optional.status == "succeeded"
    assert optional.errors.warnings[0].code == "vendor_skipped"
    assert optional.errors.warnings[0].value == DRIFT_CODE


def test_a_report_that_says_missing_counts_as_a_missing_feed() -> None:
    feeds = _feeds()
    feed = feeds["a"]
    assert isinstance(feed, VendorFeed)
    missing = VendorFeed(feed.report.model_copy(update={"status": "missing"}), pl.DataFrame())
    outputs = build_run_outputs(
        _config(required_b=False),
        run_id="r",
        as_of=AS_OF,
        config_version=1,
        feeds={"a": missing, "b": feeds["b"]},
        timings_ms={},
    )
    assert outputs.summary.vendors["a"].status == "failed"
    assert first_error(outputs) == ("missing_feed", "vendor a: the vendor's feed is missing")
