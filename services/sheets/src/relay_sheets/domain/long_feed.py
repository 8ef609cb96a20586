"""A merged feed longer than a spreadsheet takes, read only for what the sheets still need
(pure: bytes in, values out).

Such a feed is not written row by row (the root's Summary tab says so, see
``records.feed_summary_changes``): channel Listings only update the skus they already list.
Reading it with the shared reader (a dict of typed cells per row) would cost about 1 KB a row,
1 GB for a million rows, so only the columns Listings take (sku, quantity_available, title,
price) are read, by :func:`relay_shared.merged_columns.read_text_columns` (the shared reader's
rows and cells, as text columns), and typed as :mod:`relay_shared.merged_feed` types them:
whole quantities, money as numbers, text trimmed, an empty cell blank; the first cell the
shared reader refuses is refused with the same message. A number too large for a float
column (a quantity past 64 bits, a price past a double) is refused as too large.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import polars as pl

from relay_shared.channel_config import AllocationConfig
from relay_shared.merged_columns import (
    TypedColumn,
    raise_first_problem,
    read_text_columns,
    typed_column,
)
from relay_shared.merged_feed import MergedCell, MergedFeedError
from relay_sheets.domain.grid import Cell, RowChange

LISTING_COLUMNS = ("sku", "quantity_available", "title", "price")


@dataclass(frozen=True)
class LongFeed:
    """A merged feed's row count and its Listings columns (``sku``, ``quantity``,
    ``title``, ``price``; title and price null when the feed has no such column)."""

    frame: pl.DataFrame

    @property
    def rows(self) -> int:
        return self.frame.height


def most_rows(data: bytes) -> int:
    """An upper bound of a csv's data rows, without parsing it (a quoted line break only
    adds lines): a feed under a limit by this count is read the usual way."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return max(0, lines - 1)


def read_long_feed(data: bytes) -> LongFeed:
    """The feed's Listings columns; :class:`MergedFeedError` as the shared reader raises it
    (a required column missing, the first quantity or price that is not a number)."""
    text = read_text_columns(data, LISTING_COLUMNS)
    typed = {
        name: _typed_column(text, name, dtype)
        for name, dtype in (("quantity_available", pl.Int64), ("price", pl.Float64))
        if name in text.columns
    }
    raise_first_problem(list(typed.values()))
    blank = pl.lit(None, pl.String)
    frame = text.select(
        sku=pl.col("sku"),
        quantity=pl.lit(typed["quantity_available"].values),
        title=pl.col("title") if "title" in text.columns else blank,
        price=pl.lit(typed["price"].values) if "price" in typed else blank.cast(pl.Float64),
    )
    return LongFeed(frame)


def _typed_column(text: pl.DataFrame, name: str, dtype: type[pl.DataType]) -> TypedColumn:
    """polars types the plain cells, the shared reader's rule the others."""
    typed = text[name].cast(dtype, strict=False)
    plain = typed.is_not_null() if dtype == pl.Int64 else typed.is_finite()
    return typed_column(text, name, typed, plain, partial(_fitted, name, dtype))


def _fitted(name: str, dtype: type[pl.DataType], value: MergedCell, raw: str, row: int) -> float:
    """A number as the column holds it; :class:`MergedFeedError` past 64 bits or a double."""
    if isinstance(value, int) and dtype == pl.Int64 and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, Decimal) and math.isfinite(number := float(value)):
        return number
    raise MergedFeedError(f"{name} {raw!r} is too large", row=row)


def listing_updates(
    feed: LongFeed, allocation: AllocationConfig, listed: Collection[str]
) -> list[RowChange]:
    """The Listings changes of the ``listed`` skus (the same values as
    ``records.listing_changes``; nothing is appended). The feed is filtered by polars, so a
    channel listing a thousand skus costs a thousand rows of Python, not a million."""
    wanted = pl.Series(list(listed), dtype=pl.String).implode()
    rows = feed.frame.filter(pl.col("sku").is_in(wanted))
    changes = []
    for key, quantity, title, price in rows.iter_rows():
        values: dict[str, Cell] = {"quantity": allocation.channel_quantity(quantity or 0)}
        if title is not None:
            values["title"] = title
        if price is not None:
            values["price"] = price
        changes.append(RowChange((key,), values, append=False))
    return changes
