"""The dirty rows: each distinct cell outside its field's shape goes once through the field's
per-cell rule (:mod:`.fields`).

Rows outside the fast shapes are few, and their distinct cells fewer (``N/A`` repeats), so
each field's distinct cells are cleaned in Python and joined back; a cell in its field's
shape keeps the vectorised value. A row reports its first rejection in the table's order,
after the vectorised one (the SKU's) it already has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import polars as pl

from relay_normalize.domain.clean.cells import with_default
from relay_normalize.domain.clean.cleaning_config import CleaningConfig
from relay_normalize.domain.clean.field_rule import (
    ERROR_COLUMNS,
    CellRule,
    CleanCell,
    FieldRule,
    FieldShape,
    first_rejection,
    warned_column,
)
from relay_normalize.domain.clean.fields import FIELD_RULES


class PerCellField(NamedTuple):
    """A field some of whose cells this feed cleans per cell: those outside ``fast``."""

    rule: FieldRule
    clean: CellRule
    fast: pl.Expr
    value: pl.Expr  # the vectorised value, where ``fast`` holds


def per_cell_fields(shapes: Mapping[str, FieldShape]) -> list[PerCellField]:
    """The fields with a per-cell rule whose shape does not cover every row, in table order."""
    return [
        PerCellField(rule, rule.cell, shape.fast, shape.value)
        for rule in FIELD_RULES
        if rule.cell is not None and (shape := shapes[rule.name]).fast is not None
    ]


def dirty_inputs(shapes: Mapping[str, FieldShape]) -> list[str]:
    """The columns :func:`clean_dirty` reads: the raw cells it cleans and the error columns."""
    return [*(f"r_{field.rule.name}" for field in per_cell_fields(shapes)), *ERROR_COLUMNS]


def clean_dirty(
    dirty: pl.DataFrame, cleaning: CleaningConfig, shapes: Mapping[str, FieldShape]
) -> pl.DataFrame:
    """The columns the per-cell rules decide for the ``dirty`` rows (their
    :func:`dirty_inputs`), in the same row order: each such field's value and warned
    column, and the error columns."""
    frame = dirty
    fields = per_cell_fields(shapes)
    for rule, clean, fast, value in fields:
        lookup = _lookup(dirty.filter(~fast), rule, clean(cleaning), cleaning)
        frame = frame.join(
            lookup, on=f"r_{rule.name}", how="left", maintain_order="left", nulls_equal=True
        ).with_columns(  # cells in the shape were not looked up
            pl.when(fast).then(value.cast(rule.dtype)).otherwise(pl.col(rule.name)).alias(rule.name)
        )
    rules = [field.rule for field in fields]
    checks = [
        (pl.col(ERROR_COLUMNS[0]), pl.col(ERROR_COLUMNS[1]), pl.col(ERROR_COLUMNS[2])),
        *(
            (pl.col(f"e_{rule.name}"), pl.lit(rule.name), pl.col(f"x_{rule.name}"))
            for rule in rules
            if rule.rejects
        ),
    ]
    return frame.select(
        *(rule.name for rule in rules),
        *(warned_column(rule.name) for rule in rules if rule.warning is not None),
        *first_rejection(checks),
    )


def _lookup(
    dirty: pl.DataFrame, rule: FieldRule, clean: CleanCell, cleaning: CleaningConfig
) -> pl.DataFrame:
    """Distinct raw cell → value, ``e_`` (rejection code), ``w_`` (the cell when warned) and
    ``x_`` (the cell as cleaned: trimmed, or the default)."""
    source = f"r_{rule.name}"
    cells = dirty.get_column(source).unique().to_list()
    default = cleaning.defaults.get(rule.name)
    texts = [with_default(cell, default) for cell in cells]
    outcomes = [clean(text) for text in texts]
    return pl.DataFrame(
        {
            source: cells,
            rule.name: [outcome.value for outcome in outcomes],
            f"e_{rule.name}": [outcome.rejection for outcome in outcomes],
            warned_column(rule.name): [
                text if outcome.warned else None
                for text, outcome in zip(texts, outcomes, strict=True)
            ],
            f"x_{rule.name}": texts,
        },
        schema={
            source: pl.String,
            rule.name: rule.dtype,
            f"e_{rule.name}": pl.String,
            warned_column(rule.name): pl.String,
            f"x_{rule.name}": pl.String,
        },
    )
