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
from functools import partial

import polars as pl

from relay_shared.merged_columns import (
    TypedColumn,
    raise_first_problem,
    read_text_columns,
    typed_column,
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
    raise_first_problem(list(typed.values()))
    _check_skus(text["sku"])
    nulls = pl.lit(None, pl.String)
    frame = text.select(
        sku=pl.col("sku"),
        quantity=pl.lit(typed["quantity_available"].values).fill_null(0).clip(lower_bound=0),
        title=pl.col("title") if "title" in text.columns else nulls,
        price=pl.lit(typed["price"].values) if "price" in typed else nulls,
    )
    return MergedOffers(frame)


def _typed_column(text: pl.DataFrame, name: str) -> TypedColumn:
    """Quantities as integers, prices as exact text: polars types the plain cells."""
    cells = text[name]
    if name == "quantity_available":
        typed = cells.cast(pl.Int64, strict=False)
        plain = typed.is_not_null() & (typed <= QUANTITY_MAX)
    else:
        numbers = cells.cast(pl.Float64, strict=False)
        plain = numbers.is_finite() & (numbers.abs() < 1e11) & ~cells.str.contains("[eE]")
        typed = cells
    return typed_column(text, name, typed, plain, partial(_fitted, name))


def _fitted(name: str, value: MergedCell, _raw: str, row: int) -> int | str:
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
