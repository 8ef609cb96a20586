"""What a run's changes make: the delta feed (``output.mode: delta``), the per-SKU price and
quantity history, and when a delta-mode run writes a full snapshot instead. Pure polars on
:func:`relay_pricing.domain.changes.feed_changes`' frame.

Decisions where the issue is silent:
- the delta feed is the run's output columns plus ``change`` (``added``, ``changed`` or
  ``removed``), sorted by SKU; an added or changed SKU carries its new row, a removed one only
  its SKU (every other cell empty);
- a SKU whose only change is ``updated_at`` (its vendor sent a fresh feed with the same
  values) is not in the delta: nothing about it changed for a channel; changes.csv still lists
  it;
- a delta-mode run writes a full snapshot (the full feed, exactly as ``output.mode: full``)
  when the run asks for one (``"full": true``), when the tenant has no previous successful run
  (or its feed is gone), or when the ``full_every - 1`` successful runs before it were all
  deltas: with ``full_every: 3``, full, delta, delta, full, …;
- the history lists, per SKU, each run that added or removed it or changed its price or
  quantity: old and new price (integer cents) and quantity, null on the side that has none
  and for the one of the two that did not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from relay_pricing.domain.changes import SKU
from relay_shared.merged_feed import WHOLE_NUMBER_COLUMNS
from relay_shared.money_columns import cents_from_text
from relay_shared.sku_history import HISTORY_COLUMNS

CHANGE = "change"
#: Columns whose change alone does not put a SKU in the delta feed.
NOT_A_CHANGE = frozenset({"updated_at"})
PRICE, QUANTITY = "price", "quantity_available"


def change_kinds(changes: pl.DataFrame) -> pl.DataFrame:
    """``sku, change``: each SKU that was added or removed, or changed in any column but
    :data:`NOT_A_CHANGE`."""
    markers = changes.filter(pl.col("column") == SKU).select(
        pl.col(SKU),
        pl.when(pl.col("old") == "")
        .then(pl.lit("added"))
        .otherwise(pl.lit("removed"))
        .alias(CHANGE),
    )
    changed = (
        changes.filter(~pl.col("column").is_in([SKU, *NOT_A_CHANGE]))
        .select(SKU)
        .unique()
        .join(markers, on=SKU, how="anti")
        .with_columns(pl.lit("changed").alias(CHANGE))
    )
    return pl.concat([markers, changed])


def delta_frame(changes: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The delta feed of the text feed ``new``: its columns plus ``change``, sorted by SKU,
    typed like the merged feed (empty cells null, quantities and lead times integers), so
    :mod:`relay_pricing.domain.merged_output` writes it like the full one."""
    kinds = change_kinds(changes)
    present = new.join(kinds.filter(pl.col(CHANGE) != "removed"), on=SKU, how="inner")
    removed = kinds.filter(pl.col(CHANGE) == "removed").select(
        *((pl.col(SKU) if name == SKU else pl.lit("")).alias(name) for name in new.columns),
        pl.col(CHANGE),
    )
    return (
        pl.concat([present, removed])
        .sort(SKU)
        .with_columns(
            (
                pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name)).cast(pl.Int64)
                if name in WHOLE_NUMBER_COLUMNS
                else pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name))
            ).alias(name)
            for name in new.columns
            if name != SKU
        )
    )


def sku_history(changes: pl.DataFrame) -> pl.DataFrame:
    """The run's rows of the price and quantity history (:data:`HISTORY_COLUMNS`), by SKU."""
    kinds = change_kinds(changes).filter(pl.col(CHANGE) != "changed")
    values = changes.filter(pl.col("column").is_in([PRICE, QUANTITY]))
    wide = values.group_by(SKU).agg(
        _pick(PRICE, "old", cents_from_text).alias("price_old"),
        _pick(PRICE, "new", cents_from_text).alias("price_new"),
        _pick(QUANTITY, "old", _whole).alias("quantity_old"),
        _pick(QUANTITY, "new", _whole).alias("quantity_new"),
    )
    return (
        wide.join(kinds, on=SKU, how="full", coalesce=True)
        .with_columns(pl.col(CHANGE).fill_null("changed"))
        .select(HISTORY_COLUMNS)
        .sort(SKU)
    )


def _pick(column: str, side: str, typed: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    text = pl.col(side).filter(pl.col("column") == column).first()
    return typed(pl.when(text == "").then(None).otherwise(text))


def _whole(text: pl.Expr) -> pl.Expr:
    return text.cast(pl.Int64)


@dataclass(frozen=True)
class SnapshotRule:
    """``output.mode`` and ``output.full_every`` of the run's config."""

    mode: Literal["full", "delta"]
    full_every: int


def writes_full_snapshot(
    rule: SnapshotRule, *, requested: bool, has_previous: bool, deltas_since_full: int
) -> bool:
    """Whether the run's main artifact is the full feed (see the module's decisions)."""
    if rule.mode == "full" or requested or not has_previous:
        return True
    return deltas_since_full >= rule.full_every - 1
