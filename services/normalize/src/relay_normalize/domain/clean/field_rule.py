"""The shape of a field rule: how one canonical field is cleaned, on both paths.

A :class:`FieldRule` gives a field's vectorised rule (a :class:`FieldShape`: the cells whose
meaning is certain and the value polars computes for them) and, for fields with one, its
per-cell rule for every other cell (:data:`CleanCell`). The table of rules is
:data:`relay_normalize.domain.clean.fields.FIELD_RULES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import polars as pl

if TYPE_CHECKING:
    from relay_normalize.domain.clean.cleaning_config import CleaningConfig

# The columns holding a row's first rejection: its code, canonical field and cell.
ERROR_COLUMNS = ("__error", "__error_column", "__error_value")


class CellOutcome(NamedTuple):
    """What the per-cell rule of a field makes of one cell."""

    value: Any
    rejection: str | None  # the rejection code, None when accepted
    warned: bool  # the field's warning applies to the cell


CleanCell = Callable[[str], CellOutcome]
CellRule = Callable[["CleaningConfig"], CleanCell]  # a field's per-cell rule, for one feed


@dataclass(frozen=True, slots=True)
class FieldShape:
    """A field's vectorised rule for one feed.

    ``value`` is the clean value where ``fast`` holds; ``fast`` ``None``: on every row (the
    per-cell rule, if any, is then not needed). ``rejection`` is the rejection code of a rule
    that rejects vectorised (null when accepted; it may read the field's cleaned column),
    ``cell`` the cell as cleaned, the rejection's value.
    """

    value: pl.Expr
    fast: pl.Expr | None = None
    rejection: pl.Expr | None = None
    cell: pl.Expr | None = None


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One canonical field's rule: ``shape`` (vectorised) and ``cell`` (per cell, for the
    cells outside the shape), built for a feed from its :class:`CleaningConfig`; its
    rejection codes and its warning code (reported on accepted rows)."""

    name: str
    dtype: pl.DataType
    shape: Callable[[CleaningConfig, str], FieldShape]
    cell: CellRule | None = None
    rejects: tuple[str, ...] = ()
    warning: str | None = None


def raw(name: str) -> pl.Expr:
    """The raw cell of a canonical field (``""`` when empty or absent)."""
    return pl.col(f"r_{name}")


def warned_column(name: str) -> str:
    """The column holding the cell of a row the field's warning applies to (else null)."""
    return f"w_{name}"


def first_rejection(checks: Sequence[tuple[pl.Expr, pl.Expr, pl.Expr]]) -> list[pl.Expr]:
    """The :data:`ERROR_COLUMNS` of the first check, in order, whose code is not null.

    A check is ``(code, field, cell)``; an empty cell is reported as null.
    """
    code = pl.coalesce([check[0] for check in checks])
    field: pl.Expr = pl.lit(None, pl.String)
    cell: pl.Expr = pl.lit(None, pl.String)
    for rejection, name, text in reversed(checks):
        field = pl.when(rejection.is_not_null()).then(name).otherwise(field)
        cell = pl.when(rejection.is_not_null()).then(text).otherwise(cell)
    return [
        code.alias(ERROR_COLUMNS[0]),
        field.alias(ERROR_COLUMNS[1]),
        pl.when(cell != "").then(cell).alias(ERROR_COLUMNS[2]),
    ]
