"""``changes.csv``: what changed in a tenant's merged feed since its previous successful run.

Pure polars on the two merged feeds as their CSV text (what a merchant downloads is what is
compared). The format (decisions where the issue is silent):

- header ``sku,column,old,new``; UTF-8, ``\\n`` line ends, quoting only where needed (as the
  merged feed);
- a cell is compared and written as the merged feed's text (money with its two decimals);
  a missing side, or an empty cell, is the empty string;
- a SKU that was added is one row ``(sku, "sku", "", SKU)``, then one row per other column
  whose new value is not empty (old ``""``); a SKU that was removed is ``(sku, "sku", SKU,
  "")``, then one row per column whose old value was not empty (new ``""``); a SKU in both
  feeds is one row per column whose text differs (``updated_at`` included);
- the columns are the new run's output columns, then any the previous run had and this one
  has not (such a column reads ``""`` in the new feed);
- rows are sorted by SKU (byte order, as the merged feed), then by the column's position in
  that list, so a SKU's ``sku`` row (added or removed) comes first;
- a tenant's first successful run (or one whose previous run's feed is gone, e.g. expired)
  is the baseline: its changes.csv is the header alone (nothing to compare with; listing every
  SKU as added would copy a 1M-row feed five times over for no news) and it adds nothing to
  the history.

:func:`apply_changes` is the inverse: the previous feed with the changes applied is the new
feed (held by a property test).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

SKU = "sku"
CHANGE_COLUMNS = ("sku", "column", "old", "new")
_OLD, _NEW, _POS = "\x00old", "\x00new", "\x00pos"


def read_feed_text(data: bytes) -> pl.DataFrame:
    """A merged feed's CSV as text cells (an empty cell is ``""``), in file order."""
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False, raise_if_empty=False)
    return frame.with_columns(pl.all().fill_null(""))


def empty_feed(columns: Sequence[str]) -> pl.DataFrame:
    """A feed with ``columns`` and no rows (what a tenant's first run is compared with)."""
    return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))


def change_columns(old: pl.DataFrame, new: pl.DataFrame) -> list[str]:
    """The columns compared, in changes.csv's order: ``sku``, the new feed's other columns,
    then those only the old feed has."""
    ordered = [SKU, *(name for name in new.columns if name != SKU)]
    return ordered + [name for name in old.columns if name not in ordered]


@dataclass(frozen=True)
class JoinedFeeds:
    """Two feeds joined once on SKU (what both changes.csv and a preview's summary are made
    from): ``frame`` holds every SKU of either feed under ``sku``, and each of ``columns``
    (:func:`change_columns`) as ``<column>\\x00old`` and ``<column>\\x00new`` (``sku\\x00old``
    / ``sku\\x00new``: the SKU on a side that has it); a side without the SKU is null, a feed
    without the column ``""``. ``shared``: the columns but ``sku`` that both feeds have."""

    frame: pl.DataFrame = field(repr=False)
    columns: list[str]
    shared: list[str]

    @staticmethod
    def old(name: str) -> str:
        return f"{name}{_OLD}"

    @staticmethod
    def new(name: str) -> str:
        return f"{name}{_NEW}"


def join_feeds(old: pl.DataFrame, new: pl.DataFrame) -> JoinedFeeds:
    """``old`` and ``new`` (text frames, one row per SKU, as :func:`read_feed_text` reads
    them) joined on SKU: one full join, in no particular row order."""
    columns = change_columns(old, new)
    frame = (
        _side(old, columns, _OLD)
        .join(_side(new, columns, _NEW), on=SKU, how="full", coalesce=True)
        .collect()
    )
    shared = [name for name in new.columns if name in old.columns and name != SKU]
    return JoinedFeeds(frame, columns, shared)


def feed_changes(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The changes from ``old`` to ``new`` (text frames, one row per SKU, as
    :func:`read_feed_text` reads them): ``sku, column, old, new``, sorted."""
    return changes_of(join_feeds(old, new))


def changes_of(joined: JoinedFeeds) -> pl.DataFrame:
    """changes.csv's rows (``sku, column, old, new``, sorted) of two joined feeds."""
    frame, columns = joined.frame.lazy(), joined.columns
    in_old, in_new = pl.col(f"{SKU}{_OLD}").is_not_null(), pl.col(f"{SKU}{_NEW}").is_not_null()
    marker = frame.filter(in_old != in_new).select(
        pl.col(SKU),
        pl.lit(SKU).alias("column"),
        pl.when(in_old).then(pl.col(SKU)).otherwise(pl.lit("")).alias("old"),
        pl.when(in_new).then(pl.col(SKU)).otherwise(pl.lit("")).alias("new"),
        pl.lit(0, pl.Int32).alias(_POS),
    )
    parts = [marker]
    for position, name in enumerate(columns[1:], start=1):
        before = pl.col(f"{name}{_OLD}").fill_null("")
        after = pl.col(f"{name}{_NEW}").fill_null("")
        parts.append(
            frame.filter(before != after).select(
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


def changes_csv(changes: pl.DataFrame) -> bytes:
    """The changes as changes.csv (an empty cell written as nothing, never ``""``)."""
    buffer = io.BytesIO()
    empty_as_null = [
        pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name)).alias(name)
        for name in ("old", "new")
    ]
    changes.select(CHANGE_COLUMNS).with_columns(empty_as_null).write_csv(
        buffer, include_header=True, line_terminator="\n", quote_style="necessary", null_value=""
    )
    return buffer.getvalue()


def read_changes(data: bytes) -> pl.DataFrame:
    """A changes.csv as written (every cell text, ``""`` for empty)."""
    return read_feed_text(data).select(CHANGE_COLUMNS)


def apply_changes(old: pl.DataFrame, changes: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``old`` with ``changes`` applied, as the feed with ``columns`` (sorted by SKU): the
    new feed :func:`feed_changes` compared it with."""
    markers = changes.filter(pl.col("column") == SKU)
    removed = markers.filter(pl.col("new") == "").get_column(SKU)
    added = markers.filter(pl.col("old") == "").get_column(SKU)
    kept = old.filter(~pl.col(SKU).is_in(removed.implode()))
    base = pl.concat(
        [
            kept.select((pl.col(n) if n in old.columns else pl.lit("")).alias(n) for n in columns),
            pl.DataFrame({SKU: added}).select(
                (pl.col(SKU) if n == SKU else pl.lit("")).alias(n) for n in columns
            ),
        ]
    )
    values = changes.filter((pl.col("column") != SKU) & pl.col("column").is_in(list(columns)))
    if values.height:
        wide = values.pivot(on="column", index=SKU, values="new", aggregate_function="first")
        base = base.update(wide, on=SKU, how="left")
    return base.sort(SKU)
