"""The merged inventory as insights reads it: one offer per sku, as columns.

Only the columns insights uses: ``sku`` and ``quantity_available`` (required), ``title`` and
``price`` when the tenant's ``output.columns`` include them. Cells are typed by the shared
reader's rules (:mod:`relay_shared.merged_feed`); insights also refuses an empty or repeated
sku; an empty quantity counts as 0 and a negative one as 0; one above 2,147,483,647 is refused
(a product's quantity is a Postgres ``int``). The first problem in file order is
the one reported, as the shared reader finds it (a bad number anywhere before any sku
problem), with the file's row number (the header is row 1).

A million-row feed is read by polars as text (about 100 MB, where a dict of typed cells per
row costs about 1 GB). polars types the plain cells; a cell it leaves untyped (``1_000``,
``1e3``, ``NaN``) is typed by the shared reader's own cell rule, so both agree on every cell.
A file polars reads differently from ``csv`` (a blank line, which ``csv`` skips; a header
polars refuses) is read by the shared reader itself. Prices stay text (exact: Postgres reads
them as ``numeric``), in the shared reader's form where that rule typed them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from relay_shared.merged_feed import (
    REQUIRED_COLUMNS,
    MergedFeed,
    MergedFeedError,
    read_merged_feed,
    typed_cell,
)

OFFER_COLUMNS = ("sku", "quantity_available", "title", "price")
#: the frame's columns and types: price is a number as text (exact)
OFFER_SCHEMA = {"sku": pl.String, "quantity": pl.Int64, "title": pl.String, "price": pl.String}
#: the largest quantity a product can hold (``products.quantity`` is a Postgres ``int``)
QUANTITY_MAX = 2**31 - 1


@dataclass(frozen=True)
class MergedOffers:
    """A merged feed's offers in file order: ``sku``, ``quantity`` (≥ 0), ``title`` and
    ``price`` (null when the feed has no such column or an empty cell)."""

    frame: pl.DataFrame

    @property
    def skus(self) -> list[str]:
        return self.frame["sku"].to_list()

    def quantities(self) -> list[int]:
        """The distinct quantities, ascending."""
        return sorted(self.frame["quantity"].unique().to_list())


def read_merged_offers(data: bytes) -> MergedOffers:
    """The feed's offers; :class:`MergedFeedError` for the first problem in file order."""
    text = _text_frame(data)
    if text is None:
        return _offers_of(read_merged_feed(data, OFFER_COLUMNS))
    typed = {name: _typed_column(text, name) for name in text.columns if name != "sku"}
    bad = [problem for problem in (t[1] for t in typed.values()) if problem is not None]
    if bad:
        raise min(bad, key=lambda problem: problem[0])[1]
    _check_skus(text["sku"])
    nulls = pl.lit(None, pl.String)
    frame = text.select(
        sku=pl.col("sku"),
        quantity=pl.lit(typed["quantity_available"][0]).fill_null(0).clip(lower_bound=0),
        title=pl.col("title") if "title" in text.columns else nulls,
        price=pl.lit(typed["price"][0]) if "price" in typed else nulls,
    )
    return MergedOffers(frame)


def _text_frame(data: bytes) -> pl.DataFrame | None:
    """The kept columns as trimmed text (empty: null), in header order; None when the file
    is one polars would read differently from ``csv``."""
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        raw = pl.read_csv(
            io.BytesIO(body), infer_schema=False, truncate_ragged_lines=True, encoding="utf8"
        )
    except (pl.exceptions.PolarsError, ValueError):
        return None  # not UTF-8, no header, a repeated column name: the shared reader says
    if any(name not in raw.columns for name in REQUIRED_COLUMNS):
        return None  # the shared reader names what is missing
    kept = [name for name in raw.columns if name in OFFER_COLUMNS]
    text = raw.select(
        pl.when(pl.col(name).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(name).str.strip_chars())
        .alias(name)
        for name in kept
    )
    if text.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        return None  # a blank line: csv skips it, polars gives a row of nulls
    return text


#: a typed column, and its first bad cell as ((row, column position), error) when any
TypedColumn = tuple[pl.Series, tuple[tuple[int, int], MergedFeedError] | None]


def _typed_column(text: pl.DataFrame, name: str) -> TypedColumn:
    """A quantity column as integers, a price column as exact text: polars types the plain
    cells, the shared reader's cell rule the others (a cell it refuses is the column's first
    problem)."""
    cells = text[name]
    if name == "quantity_available":
        typed = cells.cast(pl.Int64, strict=False)
        untyped = cells.is_not_null() & (typed.is_null() | (typed > QUANTITY_MAX))
    else:
        numbers = cells.cast(pl.Float64, strict=False)
        untyped = cells.is_not_null() & (numbers.is_null() | ~numbers.is_finite())
        typed = cells
    values: dict[int, object] = {}
    for index in untyped.arg_true().to_list():
        row = MergedFeed.row_number(index)
        try:
            value = typed_cell(name, cells[index], row)
            if isinstance(value, int):
                value = _quantity(value, cells[index], row)
        except MergedFeedError as exc:
            return typed, ((row, text.columns.index(name)), exc)
        values[index] = str(value) if isinstance(value, Decimal) else value
    return _with_values(typed, values), None


def _quantity(value: int, raw: str | None, row: int) -> int:
    """A quantity a product can hold (a negative one counts as 0)."""
    if value > QUANTITY_MAX:
        raise MergedFeedError(f"quantity_available {raw!r} is too large", row=row)
    return max(value, 0)


def _with_values(column: pl.Series, values: dict[int, object]) -> pl.Series:
    if not values:
        return column
    return column.scatter(list(values), list(values.values()))


def _check_skus(skus: pl.Series) -> None:
    """Insights' own refusals: the first empty or repeated sku in file order."""
    empty = skus.is_null()
    repeated = skus.is_not_null() & ~skus.is_first_distinct()
    problems = (empty | repeated).arg_true()
    if problems.len() == 0:
        return
    index = problems[0]
    row = MergedFeed.row_number(index)
    if empty[index]:
        raise MergedFeedError("empty sku", row=row)
    raise MergedFeedError(f"sku {skus[index]!r} appears twice", row=row)


def _offers_of(feed: MergedFeed) -> MergedOffers:
    """The shared reader's rows as offers (the same refusals)."""
    quantities = [
        _quantity(q, str(q), MergedFeed.row_number(index)) if isinstance(q, int) else 0
        for index, q in enumerate(row.get("quantity_available") for row in feed.rows)
    ]
    skus = pl.Series("sku", [row.get("sku") for row in feed.rows], dtype=pl.String)
    _check_skus(skus)
    frame = pl.DataFrame(
        {
            "sku": skus,
            "quantity": quantities,
            "title": [_text(row.get("title")) for row in feed.rows],
            "price": [_text(row.get("price")) for row in feed.rows],
        },
        schema=OFFER_SCHEMA,
    )
    return MergedOffers(frame)


def _text(cell: object) -> str | None:
    return None if cell is None else str(cell)
