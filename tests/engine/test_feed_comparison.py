"""One join for a preview's diff (relay_pricing.domain.feed_diff.compare_feeds): its summary
and changes.csv's rows equal, exactly, what the two joins before it made
(:mod:`tests.engine.feed_diff_two_joins`, the former code kept as the oracle), on random text
feeds and on a larger seeded pair."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from relay_pricing.domain.changes import empty_feed, feed_changes
from relay_pricing.domain.feed_diff import compare_feeds, feed_diff

from . import feed_diff_two_joins as before

CELLS = {
    "quantity_available": st.sampled_from(["", "0", "1", "2", "17"]),
    "price": st.sampled_from(["", "0.00", "0.01", "5.00", "10.00", "12.34", "999.99"]),
    "vendor_id": st.sampled_from(["", "v1", "v2", "v3"]),
    "title": st.text(alphabet='xy1,."é ', max_size=4),
    "updated_at": st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]),
}
SKUS = st.text(alphabet="AB-1é", min_size=1, max_size=3)


@st.composite
def text_feeds(draw: st.DrawFn, skus: list[str]) -> pl.DataFrame:
    """A text feed (every cell a string, ``""`` for empty) of some of ``skus`` and any subset
    of the columns, in any order."""
    columns = draw(st.lists(st.sampled_from(sorted(CELLS)), unique=True))
    chosen = draw(st.lists(st.sampled_from(skus), unique=True)) if skus else []
    rows = [[sku, *(draw(CELLS[name]) for name in columns)] for sku in chosen]
    return pl.DataFrame(rows, schema=dict.fromkeys(["sku", *columns], pl.String), orient="row")


@st.composite
def feed_pairs(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    skus = draw(st.lists(SKUS, unique=True, max_size=12))
    return draw(text_feeds(skus)), draw(text_feeds(skus))


def _assert_same_as_two_joins(old: pl.DataFrame, new: pl.DataFrame) -> None:
    compared = compare_feeds(old, new)
    expected_changes = before.feed_changes(old, new)
    assert compared.diff == before.feed_diff(old, new)
    assert compared.changes.to_dicts() == expected_changes.to_dicts()
    assert compared.changes.schema == expected_changes.schema
    assert feed_diff(old, new) == compared.diff
    assert feed_changes(old, new).to_dicts() == expected_changes.to_dicts()


@settings(max_examples=400, deadline=None)
@given(feed_pairs())
def test_one_join_gives_what_two_joins_gave(pair: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    _assert_same_as_two_joins(*pair)


def test_a_first_preview_against_an_empty_feed() -> None:
    new = pl.DataFrame({"sku": ["A", "B"], "price": ["1.00", ""], "quantity_available": ["0", "3"]})
    _assert_same_as_two_joins(empty_feed(new.columns), new)
    assert compare_feeds(empty_feed(new.columns), new).diff.added == 2


def test_a_seeded_pair_of_5000_rows() -> None:
    """Enough price changes for the spread's quantiles and the 100 largest to matter."""
    index = pl.int_range(0, 5_100, eager=True).alias("i")
    base = pl.DataFrame(index).with_columns(
        pl.format("SKU-{}", pl.col("i")).alias("sku"),
        (pl.col("i").hash(1) % 4).cast(pl.String).alias("quantity_available"),
        (pl.col("i").hash(2) % 9_000 + 1).alias("cents"),
        pl.format("v{}", pl.col("i").hash(3) % 4).alias("vendor_id"),
    )
    old = base.filter(pl.col("i") < 5_000)
    new = base.filter(pl.col("i") >= 50).with_columns(
        pl.when(pl.col("i").hash(4) % 3 == 0).then(pl.col("cents") * 2).otherwise("cents"),
        pl.when(pl.col("i") % 7 == 0)
        .then(pl.lit("0"))
        .otherwise("quantity_available")
        .alias("quantity_available"),
        pl.when(pl.col("i") % 11 == 0).then(pl.lit("v9")).otherwise("vendor_id").alias("vendor_id"),
    )

    def text(frame: pl.DataFrame) -> pl.DataFrame:
        price = (pl.col("cents").cast(pl.Decimal(20, 2)) / 100).cast(pl.String).alias("price")
        return frame.select("sku", "quantity_available", price, "vendor_id")

    _assert_same_as_two_joins(text(old), text(new))
    diff = compare_feeds(text(old), text(new)).diff
    assert (diff.added, diff.removed, len(diff.largest)) == (100, 50, 100)
