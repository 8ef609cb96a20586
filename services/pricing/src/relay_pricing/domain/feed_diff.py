"""What a change of config (or of feeds) does to a tenant's merged feed: the diff a config
preview answers with and ``relay local-run --compare-to`` prints (its model,
:class:`relay_shared.feed_diff.FeedDiff`, is what the gateway reads back).

Pure polars on the two merged feeds as text (:func:`relay_pricing.domain.changes.read_feed_text`),
so what is compared is what a merchant downloads. Decisions where the issue is silent:

- a row is *changed* when its SKU is in both feeds and any cell's text differs;
  ``columns_changed`` counts, per column, the SKUs in both feeds whose cell differs;
- the price distribution is over the SKUs in both feeds whose price changed (an unchanged
  price would only pile up at zero); ``pct`` is the change over the old price (None when the
  old price is zero); cents are whole cents;
- an out-of-stock flip is a SKU in both feeds whose ``quantity_available`` went from above
  zero to zero (``to_out_of_stock``) or back (``back_in_stock``);
- ``vendor_wins`` lists only the vendors whose number of winning SKUs changed (needs the
  ``vendor_id`` column on both sides, else it is empty);
- ``largest`` holds the 100 largest price changes by absolute cents, then by SKU;
- the full diff is ``changes.csv``'s format (:func:`relay_pricing.domain.changes.feed_changes`);
  :func:`compare_feeds` makes it and the summary from one join of the two feeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from relay_pricing.domain.changes import SKU, JoinedFeeds, changes_of, join_feeds
from relay_shared.feed_diff import (
    CentsSpread,
    FeedDiff,
    LargeChange,
    PriceChanges,
    Spread,
    VendorWins,
)

PRICE, QUANTITY, VENDOR = "price", "quantity_available", "vendor_id"
LARGEST = 100
_BOTH = "\x00both"
_OLD, _NEW = JoinedFeeds.old, JoinedFeeds.new


@dataclass(frozen=True)
class FeedComparison:
    """changes.csv's rows (:func:`relay_pricing.domain.changes.feed_changes`) and the
    summary (:func:`feed_diff`) of one diff."""

    changes: pl.DataFrame = field(repr=False)
    diff: FeedDiff


def compare_feeds(old: pl.DataFrame, new: pl.DataFrame) -> FeedComparison:
    """The full diff and its summary from ``old`` to ``new`` (text frames, one row per SKU),
    both from one join of the two feeds."""
    joined = join_feeds(old, new)
    return FeedComparison(changes_of(joined), summary_of(joined, old, new))


def feed_diff(old: pl.DataFrame, new: pl.DataFrame) -> FeedDiff:
    """The diff from ``old`` to ``new`` (text frames, one row per SKU)."""
    return summary_of(join_feeds(old, new), old, new)


def summary_of(joined: JoinedFeeds, old: pl.DataFrame, new: pl.DataFrame) -> FeedDiff:
    """The summary of the joined feeds ``old`` and ``new``. A SKU on one side only has null
    cells on the other, so every comparison below leaves it out (null is neither counted nor
    a price change) without filtering the join."""
    frame, shared = joined.frame, joined.shared
    differs = {name: pl.col(_OLD(name)) != pl.col(_NEW(name)) for name in shared}
    in_both = pl.col(_OLD(SKU)).is_not_null() & pl.col(_NEW(SKU)).is_not_null()
    counts = frame.select(
        *(expr.sum().alias(name) for name, expr in differs.items()),
        in_both.sum().alias(_BOTH),
        pl.any_horizontal(*differs.values()).sum().alias("\x00changed") if differs else pl.lit(0),
    ).row(0, named=True)
    changed = int(counts.pop("\x00changed", 0) or 0)
    both = int(counts.pop(_BOTH))
    priced = _priced(frame, VENDOR in shared) if PRICE in shared else None
    return FeedDiff(
        rows_before=old.height,
        rows_after=new.height,
        added=new.height - both,
        removed=old.height - both,
        changed=changed,
        unchanged=both - changed,
        columns_changed={name: int(n) for name, n in counts.items() if n},
        price_changes=_price_changes(priced),
        **_stock_flips(frame, QUANTITY in shared),
        vendor_wins=_vendor_wins(old, new),
        largest=[] if priced is None else _largest(priced),
    )


def _cents(column: str) -> pl.Expr:
    """Money text (``12.34``) as whole cents; an empty cell is null."""
    text = pl.col(column)
    return (
        pl.when(text == "").then(None).otherwise(text.cast(pl.Decimal(20, 2)) * 100).cast(pl.Int64)
    )


def _priced(frame: pl.DataFrame, has_vendor: bool) -> pl.DataFrame:
    """The SKUs in both feeds whose price changed: old and new cents, change, percent. Only
    the cells whose text differs are parsed (equal text is no change)."""
    no_vendor = pl.lit(None, pl.String)
    priced = (
        frame.filter(pl.col(_OLD(PRICE)) != pl.col(_NEW(PRICE)))
        .select(
            SKU,
            pl.col(_OLD(PRICE)).alias("old_price"),
            pl.col(_NEW(PRICE)).alias("new_price"),
            _cents(_OLD(PRICE)).alias("old_cents"),
            _cents(_NEW(PRICE)).alias("new_cents"),
            (pl.col(_OLD(VENDOR)) if has_vendor else no_vendor).alias("old_vendor"),
            (pl.col(_NEW(VENDOR)) if has_vendor else no_vendor).alias("new_vendor"),
        )
        .drop_nulls(["old_cents", "new_cents"])
    )
    change = pl.col("new_cents") - pl.col("old_cents")
    pct = pl.when(pl.col("old_cents") != 0).then(change * 100.0 / pl.col("old_cents"))
    return priced.with_columns(change.alias("change_cents"), pct.alias("change_pct")).filter(
        pl.col("change_cents") != 0
    )


def _spread(values: pl.Series) -> Spread | None:
    values = values.drop_nulls()
    if values.is_empty():
        return None
    quantile = values.quantile
    return Spread(
        min=float(values.min()),  # type: ignore[arg-type]
        p50=round(float(quantile(0.5, "nearest")), 4),  # type: ignore[arg-type]
        p95=round(float(quantile(0.95, "nearest")), 4),  # type: ignore[arg-type]
        max=float(values.max()),  # type: ignore[arg-type]
    )


def _price_changes(priced: pl.DataFrame | None) -> PriceChanges:
    if priced is None:
        return PriceChanges(count=0, cents=None, pct=None)
    pct, cents = _spread(priced["change_pct"]), _spread(priced["change_cents"])
    return PriceChanges(
        count=priced.height,
        cents=None if cents is None else CentsSpread(**{k: round(v) for k, v in cents}),
        pct=None
        if pct is None
        else Spread(**{k: round(v, 4) for k, v in pct.model_dump().items()}),
    )


def _stock_flips(frame: pl.DataFrame, has_quantity: bool) -> dict[str, int]:
    """Out-of-stock flips of the SKUs in both feeds (only cells whose text differs can flip)."""
    if not has_quantity:
        return {"to_out_of_stock": 0, "back_in_stock": 0}
    before = pl.col(_OLD(QUANTITY)).replace("", None).cast(pl.Int64)
    after = pl.col(_NEW(QUANTITY)).replace("", None).cast(pl.Int64)
    flips = (
        frame.filter(pl.col(_OLD(QUANTITY)) != pl.col(_NEW(QUANTITY)))
        .select(
            ((before > 0) & (after == 0)).sum().alias("to_out_of_stock"),
            ((before == 0) & (after > 0)).sum().alias("back_in_stock"),
        )
        .row(0, named=True)
    )
    return {name: int(count or 0) for name, count in flips.items()}


def _vendor_wins(old: pl.DataFrame, new: pl.DataFrame) -> dict[str, VendorWins]:
    if VENDOR not in old.columns or VENDOR not in new.columns:
        return {}
    before = old.group_by(VENDOR).len("before")
    after = new.group_by(VENDOR).len("after")
    rows = (
        before.join(after, on=VENDOR, how="full", coalesce=True)
        .fill_null(0)
        .filter(pl.col("before") != pl.col("after"))
        .sort(VENDOR)
        .rows(named=True)
    )
    return {
        str(row[VENDOR]): VendorWins(
            before=row["before"], after=row["after"], delta=row["after"] - row["before"]
        )
        for row in rows
    }


def _largest(priced: pl.DataFrame) -> list[LargeChange]:
    top = priced.sort([pl.col("change_cents").abs(), pl.col(SKU)], descending=[True, False]).head(
        LARGEST
    )
    changes: list[dict[str, Any]] = top.select(
        SKU, "old_price", "new_price", "change_cents", "change_pct", "old_vendor", "new_vendor"
    ).to_dicts()
    for change in changes:
        if change["change_pct"] is not None:
            change["change_pct"] = round(change["change_pct"], 4)
    return [LargeChange(**change) for change in changes]
