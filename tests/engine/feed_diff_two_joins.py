"""The diff as it was before one join made both (two joins of the feeds: a full one for
changes.csv's rows, an inner one for the summary), kept verbatim as the oracle of
``test_feed_comparison``'s property test. Not used by any service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from relay_pricing.domain.changes import SKU, change_columns
from relay_shared.feed_diff import (
    CentsSpread,
    FeedDiff,
    LargeChange,
    PriceChanges,
    Spread,
    VendorWins,
)

_POS = "\x00pos"


PRICE, QUANTITY, VENDOR = "price", "quantity_available", "vendor_id"
LARGEST = 100
_OLD, _NEW = "_old", "_new"


def feed_diff(old: pl.DataFrame, new: pl.DataFrame) -> FeedDiff:
    """The diff from ``old`` to ``new`` (text frames, one row per SKU)."""
    shared = [name for name in new.columns if name in old.columns and name != SKU]
    both = old.select(SKU, *shared).join(new.select(SKU, *shared), on=SKU, how="inner", suffix=_NEW)
    differs = {name: pl.col(name) != pl.col(f"{name}{_NEW}") for name in shared}
    counts = both.select(
        *(expr.sum().alias(name) for name, expr in differs.items()),
        pl.any_horizontal(*differs.values()).sum().alias("\x00changed") if differs else pl.lit(0),
    ).row(0, named=True)
    changed = int(counts.pop("\x00changed", 0) or 0)
    priced = _priced(both) if PRICE in shared else None
    return FeedDiff(
        rows_before=old.height,
        rows_after=new.height,
        added=new.height - both.height,
        removed=old.height - both.height,
        changed=changed,
        unchanged=both.height - changed,
        columns_changed={name: int(n) for name, n in counts.items() if n},
        price_changes=_price_changes(priced),
        **_stock_flips(both, QUANTITY in shared),
        vendor_wins=_vendor_wins(old, new),
        largest=[] if priced is None else _largest(priced),
    )


def _cents(column: str) -> pl.Expr:
    """Money text (``12.34``) as whole cents; an empty cell is null."""
    text = pl.col(column)
    return (
        pl.when(text == "").then(None).otherwise(text.cast(pl.Decimal(20, 2)) * 100).cast(pl.Int64)
    )


def _priced(both: pl.DataFrame) -> pl.DataFrame:
    """The SKUs in both feeds whose price changed: old and new cents, change, percent."""
    frame = both.select(
        SKU,
        pl.col(PRICE).alias("old_price"),
        pl.col(f"{PRICE}{_NEW}").alias("new_price"),
        _cents(PRICE).alias("old_cents"),
        _cents(f"{PRICE}{_NEW}").alias("new_cents"),
        *(
            (pl.col(VENDOR).alias("old_vendor"), pl.col(f"{VENDOR}{_NEW}").alias("new_vendor"))
            if VENDOR in both.columns
            else (
                pl.lit(None, pl.String).alias("old_vendor"),
                pl.lit(None, pl.String).alias("new_vendor"),
            )
        ),
    ).drop_nulls(["old_cents", "new_cents"])
    change = pl.col("new_cents") - pl.col("old_cents")
    pct = pl.when(pl.col("old_cents") != 0).then(change * 100.0 / pl.col("old_cents"))
    return frame.with_columns(change.alias("change_cents"), pct.alias("change_pct")).filter(
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


def _stock_flips(both: pl.DataFrame, has_quantity: bool) -> dict[str, int]:
    if not has_quantity:
        return {"to_out_of_stock": 0, "back_in_stock": 0}
    before = pl.col(QUANTITY).replace("", None).cast(pl.Int64)
    after = pl.col(f"{QUANTITY}{_NEW}").replace("", None).cast(pl.Int64)
    flips = both.select(
        ((before > 0) & (after == 0)).sum().alias("to_out_of_stock"),
        ((before == 0) & (after > 0)).sum().alias("back_in_stock"),
    ).row(0, named=True)
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


_C_OLD, _C_NEW = "\x00old", "\x00new"


def feed_changes(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The changes from ``old`` to ``new`` (text frames, one row per SKU, as
    :func:`read_feed_text` reads them): ``sku, column, old, new``, sorted."""
    columns = change_columns(old, new)
    joined = _side(old, columns, _C_OLD).join(
        _side(new, columns, _C_NEW), on=SKU, how="full", coalesce=True
    )
    in_old, in_new = pl.col(f"{SKU}{_C_OLD}").is_not_null(), pl.col(f"{SKU}{_C_NEW}").is_not_null()
    marker = joined.filter(in_old != in_new).select(
        pl.col(SKU),
        pl.lit(SKU).alias("column"),
        pl.when(in_old).then(pl.col(SKU)).otherwise(pl.lit("")).alias("old"),
        pl.when(in_new).then(pl.col(SKU)).otherwise(pl.lit("")).alias("new"),
        pl.lit(0, pl.Int32).alias(_POS),
    )
    parts = [marker]
    for position, name in enumerate(columns[1:], start=1):
        before = pl.col(f"{name}{_C_OLD}").fill_null("")
        after = pl.col(f"{name}{_C_NEW}").fill_null("")
        parts.append(
            joined.filter(before != after).select(
                pl.col(SKU),
                pl.lit(name).alias("column"),
                before.alias("old"),
                after.alias("new"),
                pl.lit(position, pl.Int32).alias(_POS),
            )
        )
    return pl.concat(parts).sort([SKU, _POS]).drop(_POS).collect()


def _side(frame: pl.DataFrame, columns: Sequence[str], suffix: str) -> pl.LazyFrame:
    """The feed's cells under ``<column><suffix>`` (``""`` for a column it lacks), keyed by
    sku, with a presence flag ``sku<suffix>``."""
    return frame.lazy().select(
        pl.col(SKU),
        pl.col(SKU).alias(f"{SKU}{suffix}"),
        *(
            (pl.col(name) if name in frame.columns else pl.lit("")).alias(f"{name}{suffix}")
            for name in columns[1:]
        ),
    )
