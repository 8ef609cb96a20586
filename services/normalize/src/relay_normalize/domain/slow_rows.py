"""The dirty rows: each distinct cell goes once through the per-cell rules of :mod:`cleaning`.

Rows outside the fast shapes are few, and their distinct cells fewer (``N/A`` repeats), so
each field's distinct cells are cleaned in Python and joined back. The result has the same
columns as the fast path; a row reports its first rejection in the spec's field order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from relay_normalize.domain import cleaning
from relay_normalize.domain.cleaning import CellRejected
from relay_normalize.domain.fast_rows import FieldShape
from relay_normalize.domain.rules import CleaningRules
from relay_normalize.domain.text_cells import trim
from relay_shared.tenant_config.models import MONEY_FIELDS

Outcome = tuple[Any, str | None, bool]  # value, rejection code, warned
REJECTING = ("sku", "quantity_available", *MONEY_FIELDS, "lead_time_days", "condition")


@dataclass(frozen=True, slots=True)
class CellRule:
    name: str
    clean: Callable[[str], Outcome]
    dtype: pl.DataType


def with_default(cell: str | None, name: str, rules: CleaningRules) -> str:
    """The trimmed cell, or the config default when it is empty."""
    text = trim(cell)
    return text if text else trim(rules.defaults.get(name))


def _plain(parse: Callable[[str], Any]) -> Callable[[str], Outcome]:
    def clean(text: str) -> Outcome:
        try:
            return parse(text), None, False
        except CellRejected as rejected:
            return None, rejected.code, False

    return clean


def cell_rules(rules: CleaningRules) -> list[CellRule]:
    """The per-cell rule of every field but sku, brand and title."""

    def quantity(text: str) -> Outcome:
        try:
            number, warning = cleaning.parse_quantity(
                text, words=rules.quantity_words, decimal_separator=rules.decimal_separator
            )
        except CellRejected as rejected:
            return None, rejected.code, False
        return number, None, warning is not None

    def money(text: str) -> int | None:
        return cleaning.parse_money_cents(
            text, currency=rules.currency, decimal_separator=rules.decimal_separator
        )

    def stamp(text: str) -> Outcome:
        value, invalid = cleaning.parse_timestamp(text, zone=rules.zone, as_of=rules.as_of)
        return value, None, invalid

    def condition(text: str) -> str:
        return cleaning.parse_condition(text, condition_map=rules.condition_map)

    return [
        CellRule("quantity_available", quantity, pl.Int64()),
        *[CellRule(name, _plain(money), pl.Int64()) for name in MONEY_FIELDS],
        CellRule("lead_time_days", _plain(cleaning.parse_lead_time), pl.Int64()),
        CellRule("condition", _plain(condition), pl.String()),
        CellRule("updated_at", stamp, pl.String()),
    ]


def _lookup(
    slow: pl.DataFrame, rule: CellRule, rules: CleaningRules, shape: FieldShape | None
) -> pl.DataFrame:
    """Distinct raw cell outside the fast shape → value, ``e_``/``w_`` codes and ``x_`` (the
    cell as cleaned: trimmed, or the default)."""
    source = f"r_{rule.name}"
    dirty = slow if shape is None else slow.filter(~shape.fast)
    cells = dirty.get_column(source).unique().to_list()
    texts = [with_default(cell, rule.name, rules) for cell in cells]
    outcomes = [rule.clean(text) for text in texts]
    warned = [text if outcome[2] else None for text, outcome in zip(texts, outcomes, strict=True)]
    return pl.DataFrame(
        {
            source: cells,
            rule.name: [outcome[0] for outcome in outcomes],
            f"e_{rule.name}": [outcome[1] for outcome in outcomes],
            f"w_{rule.name}": warned,
            f"x_{rule.name}": texts,
        },
        schema={
            source: pl.String,
            rule.name: rule.dtype,
            f"e_{rule.name}": pl.String,
            f"w_{rule.name}": pl.String,
            f"x_{rule.name}": pl.String,
        },
    )


def clean_slow(
    slow: pl.DataFrame, rules: CleaningRules, *, shapes: Mapping[str, FieldShape]
) -> pl.DataFrame:
    """The dirty rows cleaned: the fast path's columns plus nothing else (same order later)."""
    frame = slow  # sku, vendor_sku and e_sku are there already (fast_rows.with_sku)
    for rule in cell_rules(rules):
        shape = shapes.get(rule.name)
        frame = frame.join(
            _lookup(slow, rule, rules, shape),
            on=f"r_{rule.name}",
            how="left",
            maintain_order="left",
            nulls_equal=True,
        )
        if shape is not None:  # cells in the fast shape were not looked up
            frame = frame.with_columns(
                pl.when(shape.fast)
                .then(shape.value.cast(rule.dtype))
                .otherwise(pl.col(rule.name))
                .alias(rule.name)
            )
    errors = [pl.col(f"e_{name}") for name in REJECTING]
    texts = [pl.col("vendor_sku"), *[pl.col(f"x_{name}") for name in REJECTING[1:]]]
    error_column: pl.Expr = pl.lit(None, pl.String)
    error_value: pl.Expr = pl.lit(None, pl.String)
    for name, code, text in reversed(list(zip(REJECTING, errors, texts, strict=True))):
        error_column = pl.when(code.is_not_null()).then(pl.lit(name)).otherwise(error_column)
        error_value = pl.when(code.is_not_null()).then(text).otherwise(error_value)
    return frame.with_columns(
        pl.coalesce(errors).alias("__error"),
        error_column.alias("__error_column"),
        pl.when(error_value != "").then(error_value).alias("__error_value"),
        pl.col("w_quantity_available").alias("__w_quantity"),
        pl.col("w_updated_at").alias("__w_timestamp"),
    )
