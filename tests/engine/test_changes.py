"""changes.csv, the delta feed, the price and quantity history and the snapshot rule
(relay_pricing.domain.changes, .delta, .change_outputs): exact bytes, and the property that
applying changes.csv to the previous merged feed gives the new one."""

from __future__ import annotations

import json

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from relay_pricing.domain.change_outputs import PreviousRun, with_changes
from relay_pricing.domain.changes import (
    apply_changes,
    changes_csv,
    empty_feed,
    feed_changes,
    read_changes,
    read_feed_text,
)
from relay_pricing.domain.delta import SnapshotRule, writes_full_snapshot
from relay_pricing.domain.merged_output import merged_csv

HEADER = b"sku,quantity_available,price,vendor_id,updated_at\n"
OLD = HEADER + (
    b"A-1,5,10.00,v1,2026-01-01T00:00:00Z\n"
    b"B-2,2,,v1,2026-01-01T00:00:00Z\n"
    b"C-3,3,5.00,v2,2026-01-01T00:00:00Z\n"
    b"E-5,7,8.00,v2,2026-01-01T00:00:00Z\n"
)
NEW = HEADER + (
    b"A-1,5,11.00,v1,2026-01-02T00:00:00Z\n"
    b"C-3,3,5.00,v2,2026-01-01T00:00:00Z\n"
    b"D-4,0,1000.00,v2,2026-01-02T00:00:00Z\n"
    b"E-5,7,8.00,v2,2026-01-02T00:00:00Z\n"
)
CHANGES = (
    b"sku,column,old,new\n"
    b"A-1,price,10.00,11.00\n"
    b"A-1,updated_at,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z\n"
    b"B-2,sku,B-2,\n"
    b"B-2,quantity_available,2,\n"
    b"B-2,vendor_id,v1,\n"
    b"B-2,updated_at,2026-01-01T00:00:00Z,\n"
    b"D-4,sku,,D-4\n"
    b"D-4,quantity_available,,0\n"
    b"D-4,price,,1000.00\n"
    b"D-4,vendor_id,,v2\n"
    b"D-4,updated_at,,2026-01-02T00:00:00Z\n"
    b"E-5,updated_at,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z\n"
)
DELTA = (
    b"sku,quantity_available,price,vendor_id,updated_at,change\n"
    b"A-1,5,11.00,v1,2026-01-02T00:00:00Z,changed\n"
    b"B-2,,,,,removed\n"
    b"D-4,0,1000.00,v2,2026-01-02T00:00:00Z,added\n"
)
HISTORY = (
    b"sku,change,price_old,price_new,quantity_old,quantity_new\n"
    b"A-1,changed,10.00,11.00,,\n"
    b"B-2,removed,,,2,\n"
    b"D-4,added,,1000.00,,0\n"
)
DELTA_RULE = SnapshotRule("delta", 3)


def _changes(old: bytes, new: bytes) -> pl.DataFrame:
    return feed_changes(read_feed_text(old), read_feed_text(new))


def test_changes_csv_lists_changed_added_and_removed_skus_sorted() -> None:
    assert changes_csv(_changes(OLD, NEW)) == CHANGES


def test_a_previous_feed_without_rows_lists_every_sku_as_added() -> None:
    feed = HEADER + b"A-1,5,10.00,v1,t\nB-2,0,,v1,t\n"
    changes = feed_changes(empty_feed(read_feed_text(feed).columns), read_feed_text(feed))
    assert changes_csv(changes) == (
        b"sku,column,old,new\n"
        b"A-1,sku,,A-1\nA-1,quantity_available,,5\nA-1,price,,10.00\nA-1,vendor_id,,v1\n"
        b"A-1,updated_at,,t\n"
        b"B-2,sku,,B-2\nB-2,quantity_available,,0\nB-2,vendor_id,,v1\nB-2,updated_at,,t\n"
    )


def test_a_baseline_run_has_no_changes_and_keeps_its_full_feed() -> None:
    made = with_changes(
        {"merged_inventory.csv": NEW},
        PreviousRun(None, None),
        DELTA_RULE,
        full_requested=False,
    )
    assert made.snapshot is True
    assert made.history.height == 0
    assert made.files == {
        "merged_inventory.csv": NEW,
        "changes.csv": b"sku,column,old,new\n",
        "sku_history.csv": b"sku,change,price_old,price_new,quantity_old,quantity_new\n",
    }


def test_a_column_dropped_from_the_output_reads_empty_in_the_new_feed() -> None:
    old = b"sku,quantity_available,title\nA-1,1,Bolt\n"
    new = b"sku,quantity_available\nA-1,2\n"
    assert changes_csv(_changes(old, new)) == (
        b"sku,column,old,new\nA-1,quantity_available,1,2\nA-1,title,Bolt,\n"
    )


def test_a_delta_run_makes_the_main_artifact_the_changed_rows() -> None:
    made = with_changes(
        {"merged_inventory.csv": NEW, "run_summary.json": b"{}"},
        PreviousRun("run-1", OLD, deltas_since_full=0),
        DELTA_RULE,
        full_requested=False,
    )
    assert made.snapshot is False
    assert made.feed_name == "full_inventory.csv"
    assert made.files == {
        "merged_inventory.csv": DELTA,
        "full_inventory.csv": NEW,
        "changes.csv": CHANGES,
        "sku_history.csv": HISTORY,
        "run_summary.json": b"{}",
    }


def test_a_delta_run_with_json_output_writes_the_delta_as_json_too() -> None:
    made = with_changes(
        {"merged_inventory.csv": NEW, "merged_inventory.json": b"[full]"},
        PreviousRun("run-1", OLD),
        DELTA_RULE,
        full_requested=False,
    )
    assert made.files["full_inventory.json"] == b"[full]"
    assert json.loads(made.files["merged_inventory.json"]) == [
        {
            "sku": "A-1",
            "quantity_available": 5,
            "price": "11.00",
            "vendor_id": "v1",
            "updated_at": "2026-01-02T00:00:00Z",
            "change": "changed",
        },
        {
            "sku": "B-2",
            "quantity_available": None,
            "price": None,
            "vendor_id": None,
            "updated_at": None,
            "change": "removed",
        },
        {
            "sku": "D-4",
            "quantity_available": 0,
            "price": "1000.00",
            "vendor_id": "v2",
            "updated_at": "2026-01-02T00:00:00Z",
            "change": "added",
        },
    ]


def test_a_full_mode_run_keeps_its_merged_feed_byte_for_byte() -> None:
    made = with_changes(
        {"merged_inventory.csv": NEW},
        PreviousRun("run-1", OLD, deltas_since_full=5),
        SnapshotRule("full", 3),
        full_requested=False,
    )
    assert made.snapshot is True
    assert made.feed_name == "merged_inventory.csv"
    assert made.files == {
        "merged_inventory.csv": NEW,
        "changes.csv": CHANGES,
        "sku_history.csv": HISTORY,
    }


def test_the_snapshot_rule() -> None:
    def full(requested: bool = False, previous: bool = True, deltas: int = 0) -> bool:
        return writes_full_snapshot(
            DELTA_RULE, requested=requested, has_previous=previous, deltas_since_full=deltas
        )

    assert [full(deltas=n) for n in range(4)] == [False, False, True, True]
    assert full(requested=True) is True
    assert full(previous=False) is True
    every_run = SnapshotRule("delta", 1)
    assert writes_full_snapshot(every_run, requested=False, has_previous=True, deltas_since_full=0)


SKUS = st.text(alphabet='AB-1é," ', min_size=1, max_size=4).filter(lambda s: s.strip() == s)
CELLS = st.one_of(st.just(""), st.text(alphabet='xy1,."\n ', min_size=1, max_size=5))
COLUMNS = ("quantity_available", "price", "vendor_id", "title")


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    """A merged feed's CSV: unique SKUs, any subset of the other columns, any cell text."""
    columns = draw(st.lists(st.sampled_from(COLUMNS), unique=True, max_size=len(COLUMNS)))
    rows = draw(st.dictionaries(SKUS, st.tuples(*(CELLS for _ in columns)), max_size=8))
    frame = pl.DataFrame(
        [[sku, *cells] for sku, cells in sorted(rows.items())],
        schema=dict.fromkeys(["sku", *columns], pl.String),
        orient="row",
    )
    return merged_csv(_nulls(frame))


def _nulls(frame: pl.DataFrame) -> pl.DataFrame:
    """Empty cells as null (how the merged feed holds them)."""
    return frame.with_columns(
        pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name)).alias(name)
        for name in frame.columns
    )


@settings(max_examples=300, deadline=None)
@given(feeds(), feeds())
def test_applying_changes_csv_to_the_old_feed_gives_the_new_one(old: bytes, new: bytes) -> None:
    old_frame, new_frame = read_feed_text(old), read_feed_text(new)
    written = changes_csv(feed_changes(old_frame, new_frame))
    applied = apply_changes(old_frame, read_changes(written), new_frame.columns)
    assert applied.to_dicts() == new_frame.sort("sku").to_dicts()
    assert merged_csv(_nulls(applied)) == new
