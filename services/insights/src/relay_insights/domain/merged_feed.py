"""The merged inventory as insights reads it: one offer per sku, as columns.

Only the columns insights uses: ``sku`` and ``quantity_available`` (required), ``title`` and
``price`` when the tenant's ``output.columns`` include them. The file is split into rows and
cells by Python's ``csv`` exactly as the shared reader does (:mod:`relay_shared.merged_feed`:
one BOM dropped, blank lines skipped, a repeated column name's last column kept, a short row's
missing cells empty), keeping only those four columns' text (about 250 bytes a row, where a
dict of typed cells per row costs about 1 GB a million rows). Cells are then typed by the
shared reader's rules: polars types the plain ones, and a cell it leaves untyped (``1_000``,
``NaN``, an exponent) goes through the shared reader's own cell rule, so both agree on every
cell.

Insights also refuses a quantity above 2,147,483,647 (``products.quantity`` is an ``int``), a
price that is 10^12 or more once rounded to cents (``products.price`` is ``numeric(14, 2)``),
and an empty or repeated sku; an empty or negative quantity counts as 0. The problem reported
is the first in file order (row, then column) of the first kind found: a cell the shared reader
refuses, then a number too large, then a sku problem; its row number counts the header as
row 1. Prices stay exact text (Postgres reads them as ``numeric``); one polars leaves untyped
(an exponent, ``1_000``, 11 digits or more) is rounded to cents here as Postgres would (half
away from zero), so that its size can be checked.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

from relay_shared.merged_feed import REQUIRED_COLUMNS, MergedFeed, MergedFeedError, typed_cell

OFFER_COLUMNS = ("sku", "quantity_available", "title", "price")
NUMBER_COLUMNS = ("quantity_available", "price")
#: the frame's columns and types: price is a number as text (exact)
OFFER_SCHEMA = {"sku": pl.String, "quantity": pl.Int64, "title": pl.String, "price": pl.String}
#: the largest quantity a product can hold (``products.quantity`` is a Postgres ``int``)
QUANTITY_MAX = 2**31 - 1
#: the smallest price too large for ``products.price`` (``numeric(14, 2)``)
PRICE_LIMIT = Decimal(10) ** 12
_CENT = Decimal("0.01")
#: what ``str.strip()`` removes (polars' own strip keeps U+001C..U+001F)
_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())

#: a cell's place (row index, column position) and what is wrong with it
Problem = tuple[tuple[int, int], MergedFeedError]


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
    """The feed's offers; :class:`MergedFeedError` for the first problem (see the module)."""
    text = _trimmed(_text_columns(data))
    numbers = [name for name in text.columns if name in NUMBER_COLUMNS]
    typed = {name: _typed_column(text, name) for name in numbers}
    for kind in ("bad", "too_large"):
        problems = [getattr(column, kind) for column in typed.values()]
        found = [problem for problem in problems if problem is not None]
        if found:
            raise min(found, key=lambda problem: problem[0])[1]
    _check_skus(text["sku"])
    nulls = pl.lit(None, pl.String)
    frame = text.select(
        sku=pl.col("sku"),
        quantity=pl.lit(typed["quantity_available"].values).fill_null(0).clip(lower_bound=0),
        title=pl.col("title") if "title" in text.columns else nulls,
        price=pl.lit(typed["price"].values) if "price" in typed else nulls,
    )
    return MergedOffers(frame)


def _text_columns(data: bytes) -> dict[str, list[str | None]]:
    """The kept columns' raw cells, in header order, as ``csv.DictReader`` gives them."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MergedFeedError("the merged feed is not UTF-8") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise MergedFeedError(f"the merged feed has no column {', '.join(missing)}")
    last = {name: index for index, name in enumerate(header) if name in OFFER_COLUMNS}
    kept = sorted(last, key=header.index)  # header order, as the shared reader keeps them
    cells: dict[str, list[str | None]] = {name: [] for name in kept}
    places = [(cells[name].append, last[name]) for name in kept]
    for fields in reader:
        if not fields:
            continue  # a blank line: DictReader skips it
        width = len(fields)
        for append, index in places:
            append(fields[index] if index < width else None)
    return cells


def _trimmed(cells: dict[str, list[str | None]]) -> pl.DataFrame:
    """The cells as text trimmed like ``str.strip()``, an empty one null."""
    frame = pl.DataFrame(cells, schema=dict.fromkeys(cells, pl.String))
    return frame.select(
        pl.when(pl.col(name).str.strip_chars(_WHITESPACE) == "")
        .then(None)
        .otherwise(pl.col(name).str.strip_chars(_WHITESPACE))
        .alias(name)
        for name in frame.columns
    )


@dataclass(frozen=True)
class TypedColumn:
    """A column typed (quantities as integers, prices as exact text), its first cell the
    shared reader refuses and its first number too large for a product, when any."""

    values: pl.Series
    bad: Problem | None = None
    too_large: Problem | None = None


def _typed_column(text: pl.DataFrame, name: str) -> TypedColumn:
    """polars types the plain cells; the others go through the shared reader's cell rule."""
    cells = text[name]
    if name == "quantity_available":
        typed = cells.cast(pl.Int64, strict=False)
        untyped = cells.is_not_null() & (typed.is_null() | (typed > QUANTITY_MAX))
    else:
        numbers = cells.cast(pl.Float64, strict=False)
        plain = numbers.is_finite() & (numbers.abs() < 1e11) & ~cells.str.contains("[eE]")
        untyped = cells.is_not_null() & ~plain.fill_null(False)
        typed = cells
    position = text.columns.index(name)
    values: dict[int, int | str] = {}
    too_large: Problem | None = None
    for index in untyped.arg_true().to_list():
        row = MergedFeed.row_number(index)
        try:
            values[index] = _fitted(name, typed_cell(name, cells[index], row), row)
        except _TooLargeError as exc:
            too_large = too_large or ((index, position), exc)
        except MergedFeedError as exc:
            return TypedColumn(typed, bad=((index, position), exc))
    return TypedColumn(_with_values(typed, values), too_large=too_large)


class _TooLargeError(MergedFeedError):
    """A number the shared reader accepts that a product cannot hold."""


def _fitted(name: str, value: object, row: int) -> int | str:
    """A quantity (a negative one counts as 0) or a price (rounded to cents, as Postgres
    would) a product can hold."""
    if isinstance(value, int):
        if value > QUANTITY_MAX:
            raise _TooLargeError(f"{name} '{value}' is too large", row=row)
        return max(value, 0)
    if not isinstance(value, Decimal):
        raise TypeError(f"{name}: {value!r} is no number")  # typed_cell types both columns
    try:
        cents = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        cents = PRICE_LIMIT  # more digits than a Decimal context holds: far too large
    if abs(cents) >= PRICE_LIMIT:
        raise _TooLargeError(f"{name} '{value}' is too large", row=row)
    return str(cents)


def _with_values(column: pl.Series, values: dict[int, int | str]) -> pl.Series:
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
