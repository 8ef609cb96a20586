"""A merged feed longer than a spreadsheet takes, read only for what the sheets still need
(pure: bytes in, values out).

Such a feed is not written row by row (the root's Summary tab says so, see
``records.feed_summary_changes``): channel Listings only update the skus they already list.
Reading it with the shared reader (a dict of typed cells per row) would cost about 1 KB a row,
1 GB for a million rows, so it is read by polars, only the columns Listings take (sku,
quantity_available, title, price), typed as :mod:`relay_shared.merged_feed` types them: whole
quantities, money as numbers, text trimmed, an empty cell blank. A million rows cost about
100 MB this way and one pass over them about a second.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from relay_shared.channel_config import AllocationConfig
from relay_shared.merged_feed import REQUIRED_COLUMNS, MergedFeedError
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
    (a required column missing, a quantity or price that is not a number)."""
    try:
        raw = pl.read_csv(io.BytesIO(data), infer_schema=False, encoding="utf8")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise MergedFeedError(f"the merged feed cannot be read: {exc}") from exc
    missing = [name for name in REQUIRED_COLUMNS if name not in raw.columns]
    if missing:
        raise MergedFeedError(f"the merged feed has no column {', '.join(missing)}")
    text = {
        name: _text(raw, name) if name in raw.columns else pl.lit(None, pl.String)
        for name in LISTING_COLUMNS
    }
    try:
        frame = raw.select(
            sku=text["sku"],
            quantity=text["quantity_available"].cast(pl.Int64, strict=True),
            title=text["title"],
            price=text["price"].cast(pl.Float64, strict=True),
        )
    except pl.exceptions.InvalidOperationError as exc:
        raise MergedFeedError(f"a quantity or price is not a number: {exc}") from exc
    if frame["price"].is_infinite().any() or frame["price"].is_nan().any():
        raise MergedFeedError("a price is not a finite number")
    return LongFeed(frame)


def _text(raw: pl.DataFrame, name: str) -> pl.Expr:
    trimmed = pl.col(name).str.strip_chars()
    return pl.when(trimmed == "").then(None).otherwise(trimmed)


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
