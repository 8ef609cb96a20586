"""The drift rule (pure) and the retry budget's arithmetic."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay_pricing.adapters.normalized_offers import read_offers
from relay_pricing.domain import VendorFeed
from relay_pricing.domain.drift import (
    DRIFT_CODE,
    Drift,
    FeedBaseline,
    measure_drift,
    refuse_drifted,
)
from relay_shared.bus import DeliveryPolicy
from relay_shared.events import VendorCounts
from relay_shared.vendor_report import VendorReport


def stats(accepted: int, in_stock: set[str], out: set[str] | None = None) -> FeedBaseline:
    return FeedBaseline.of_sets(accepted, frozenset(in_stock | (out or set())), frozenset(in_stock))


SKUS = {f"S{i}" for i in range(20)}


@pytest.mark.parametrize(
    ("now", "drifted"),
    [(10, False), (9, True), (20, False), (0, True), (25, False)],
)
def test_accepted_rows_may_fall_by_half_but_not_more(now: int, drifted: bool) -> None:
    drift = measure_drift(stats(20, SKUS), FeedBaseline.of_sets(now, frozenset(), frozenset()))
    assert drift.drifted is drifted


def test_row_drop_is_measured_against_the_previous_count() -> None:
    drift = measure_drift(stats(20, SKUS), stats(9, set(sorted(SKUS)[:9])))
    assert (drift.previous_accepted, drift.accepted, drift.row_drop) == (20, 9, 0.55)


@pytest.mark.parametrize(("flipped", "drifted"), [(5, False), (6, True)])
def test_up_to_a_quarter_of_shared_skus_may_go_out_of_stock(flipped: int, drifted: bool) -> None:
    ordered = sorted(SKUS)
    current = stats(20, set(ordered[flipped:]), set(ordered[:flipped]))
    drift = measure_drift(stats(20, SKUS), current)
    assert (drift.shared_skus, drift.flipped_out_of_stock) == (20, flipped)
    assert drift.drifted is drifted


def test_flips_count_only_skus_present_in_both_that_were_in_stock() -> None:
    previous = stats(4, {"A", "B"}, {"C", "D"})  # C and D were already out of stock
    current = stats(4, {"E"}, {"A", "C", "D"})  # B is gone, E is new, A flipped
    drift = measure_drift(previous, current)
    assert (drift.shared_skus, drift.flipped_out_of_stock, drift.stockout_flip) == (3, 1, 1 / 3)
    assert drift.drifted


def test_the_item_names_both_measures() -> None:
    drift = Drift(previous_accepted=10, accepted=4, shared_skus=4, flipped_out_of_stock=1)
    report = VendorReport(
        vendor_id="v1", status="ok", stats=VendorCounts(accepted=4), errors=[], warnings=[]
    )
    feed = VendorFeed(report, pl.DataFrame({"sku": ["A"]}))
    refused = refuse_drifted("v1", feed, drift)
    assert (refused.status, refused.report.failure_code, refused.offers) == (
        "failed",
        DRIFT_CODE,
        None,
    )
    item = refused.report.errors[0]
    assert (item.vendor_id, item.row, item.code) == ("v1", None, DRIFT_CODE)
    assert item.value == "accepted_drop=60.0% (10->4); out_of_stock_flip=25.0% (1/4)"
    assert "from 10 to 4 (60.0% drop" in item.message
    assert "1 of 4 SKUs present in both went out of stock (25.0%" in item.message


def test_stats_from_a_normalized_csv() -> None:
    csv = (
        b"sku,vendor_sku,vendor_id,quantity_available,lead_time_days,cost,map_price,msrp,"
        b"condition,brand,title,updated_at\n"
        b"A,a,v1,3,,1.00,,,new,,,2026-01-01T00:00:00Z\n"
        b"B,b,v1,0,,1.00,,,new,,,2026-01-01T00:00:00Z\n"
    )
    assert FeedBaseline.of_offers(read_offers(csv), 2) == FeedBaseline.of_sets(
        2, frozenset({"A", "B"}), frozenset({"A"})
    )


def test_stats_from_offers_and_from_an_empty_csv_file(tmp_path: Path) -> None:
    offers = pl.DataFrame({"sku": ["A", "B", "C"], "quantity_available": [3, 0, None]})
    assert FeedBaseline.of_offers(offers, 3) == FeedBaseline.of_sets(
        3, frozenset({"A", "B", "C"}), frozenset({"A"})
    )
    empty = FeedBaseline.of_sets(0, frozenset(), frozenset())
    assert FeedBaseline.of_offers(read_offers(b""), 0) == empty
    path = tmp_path / "normalized.csv"
    path.write_bytes(b"")
    assert FeedBaseline.of_offers(read_offers(path), 0) == empty


_SKU = st.sampled_from(["A", "B", "b", "é", "Z9", "A "])
_ROWS = st.lists(st.tuples(_SKU, st.one_of(st.none(), st.integers(-2, 3))), max_size=12)


def _by_sets(rows: list[tuple[str, int | None]]) -> tuple[frozenset[str], frozenset[str]]:
    """The exact rule, with sets: every SKU, and those with a row whose quantity is above 0."""
    skus = frozenset(sku for sku, _ in rows)
    return skus, frozenset(sku for sku, quantity in rows if (quantity or 0) > 0)


def _offers(rows: list[tuple[str, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": [sku for sku, _ in rows], "quantity_available": [q for _, q in rows]},
        schema={"sku": pl.String, "quantity_available": pl.Int64},
    )


@settings(max_examples=200, deadline=None)
@given(before=_ROWS, now=_ROWS)
def test_the_frame_baselines_measure_exactly_as_the_set_rule(
    before: list[tuple[str, int | None]], now: list[tuple[str, int | None]]
) -> None:
    """The baselines are frames and the drift a join (the fast path); the rule is sets:
    shared = before ∩ now, flipped = (in stock before ∩ shared) − in stock now."""
    (skus_before, stocked_before), (skus_now, stocked_now) = _by_sets(before), _by_sets(now)
    previous = FeedBaseline.of_offers(_offers(before), len(before))
    current = FeedBaseline.of_offers(_offers(now), len(now))
    assert (previous.skus, previous.in_stock) == (skus_before, stocked_before)
    assert previous == FeedBaseline.of_sets(len(before), skus_before, stocked_before)
    shared = skus_before & skus_now
    drift = measure_drift(previous, current)
    assert (drift.shared_skus, drift.flipped_out_of_stock) == (
        len(shared),
        len((stocked_before & shared) - stocked_now),
    )


def test_default_retry_budget_heals_an_outage_of_a_minute() -> None:
    policy = DeliveryPolicy()
    delays = [policy.delay_for(d) for d in range(1, policy.max_deliver)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert policy.budget_s() == 61.5
