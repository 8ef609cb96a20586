"""The merged inventory as insights reads it: one offer per sku, as columns.

Only the columns insights uses: ``sku`` and ``quantity_available`` (required), ``title`` and
``price`` when the tenant's ``output.columns`` include them, read by
:func:`relay_shared.merged_columns.read_text_columns` (the shared reader's rows and cells, as
text columns: about 250 bytes a row, where a dict of typed cells per row costs about 1 GB a
million rows) and typed by the shared reader's rules (polars types the plain cells, the
shared rule the others).

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

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

from relay_shared.merged_columns import (
    CellProblem,
    first_problem,
    read_text_columns,
    shared_rule_cells,
)
from relay_shared.merged_feed import MergedCell, MergedFeed, MergedFeedError

OFFER_COLUMNS = ("sku", "quantity_available", "title", "price")
NUMBER_COLUMNS = ("quantity_available", "price")
#: the frame's columns and types: price is a number as text (exact)
OFFER_SCHEMA = {"sku": pl.String, "quantity": pl.Int64, "title": pl.String, "price": pl.String}
#: the largest quantity a product can hold (``products.quantity`` is a Postgres ``int``)
QUANTITY_MAX = 2**31 - 1
#: the smallest price too large for ``products.price`` (``numeric(14, 2)``)
PRICE_LIMIT = Decimal(10) ** 12
_CENT = Decimal("0.01")


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
    text = read_text_columns(data, OFFER_COLUMNS)
    numbers = [name for name in text.columns if name in NUMBER_COLUMNS]
    typed = {name: _typed_column(text, name) for name in numbers}
    for problem in (
        first_problem([column.bad for column in typed.values()]),
        first_problem([column.too_large for column in typed.values()]),
    ):
        if problem is not None:
            raise problem.error
    _check_skus(text["sku"])
    nulls = pl.lit(None, pl.String)
    frame = text.select(
        sku=pl.col("sku"),
        quantity=pl.lit(typed["quantity_available"].values).fill_null(0).clip(lower_bound=0),
        title=pl.col("title") if "title" in text.columns else nulls,
        price=pl.lit(typed["price"].values) if "price" in typed else nulls,
    )
    return MergedOffers(frame)


@dataclass(frozen=True)
class TypedColumn:
    """A column typed (quantities as integers, prices as exact text), its first cell the
    shared reader refuses and its first number too large for a product, when any."""

    values: pl.Series
    bad: CellProblem | None = None
    too_large: CellProblem | None = None


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
    shared, bad = shared_rule_cells(text, name, untyped)
    if bad is not None:
        return TypedColumn(typed, bad=bad)
    values: dict[int, int | str] = {}
    too_large: CellProblem | None = None
    for index, value in shared.items():
        try:
            values[index] = _fitted(name, value, MergedFeed.row_number(index))
        except MergedFeedError as exc:
            place = (index, text.columns.index(name))
            too_large = too_large or CellProblem(*place, exc)
    return TypedColumn(_with_values(typed, values), too_large=too_large)


def _fitted(name: str, value: MergedCell, row: int) -> int | str:
    """A quantity (a negative one counts as 0) or a price (rounded to cents, as Postgres
    would) a product can hold; :class:`MergedFeedError` for one too large."""
    if isinstance(value, int):
        if value > QUANTITY_MAX:
            raise MergedFeedError(f"{name} '{value}' is too large", row=row)
        return max(value, 0)
    if not isinstance(value, Decimal):
        raise TypeError(f"{name}: {value!r} is no number")  # the shared rule types both
    try:
        cents = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        cents = PRICE_LIMIT  # more digits than a Decimal context holds: far too large
    if abs(cents) >= PRICE_LIMIT:
        raise MergedFeedError(f"{name} '{value}' is too large", row=row)
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
