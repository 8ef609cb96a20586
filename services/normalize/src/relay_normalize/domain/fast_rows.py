"""The vectorised path: rows whose every cell has a clean shape, cleaned with polars.

A row is *fast* when each numeric/enumerated cell matches a simple shape whose meaning is
certain (``^[0-9]{1,15}$`` for a quantity, ``^[0-9]{1,13}(\\.[0-9]{1,2})?$`` or empty for
money, a known condition word, a valid ``…Z`` timestamp). Every other row goes through
:func:`row_cleaning.clean_row`, so the Python rules define the behaviour and these shapes
only take shortcuts that give the same answer (a property test checks it). Polars'
``strip_chars()`` strips Rust's ``char::is_whitespace`` = the Unicode ``White_Space`` set,
the same as :data:`text_cells.WHITESPACE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from relay_normalize.domain import cleaning
from relay_normalize.domain.cleaning import BUILTIN_CONDITIONS, CellRejected
from relay_normalize.domain.rules import CleaningRules
from relay_normalize.domain.text_cells import collapse, trim
from relay_shared.tenant_config.models import MONEY_FIELDS

# Whitespace that collapsing changes: a run of two or more, or one that is not a space. Rust's
# \s is Unicode White_Space, the set of text_cells.WHITESPACE.
_RUNS = r"\s{2,}|[^\S ]"
_MANGLED = r"(?i)^[0-9]+([.,][0-9]+)?E\+[0-9]+$"
_ISO_Z = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


def raw(name: str) -> pl.Expr:
    """The raw cell of a canonical field (``""`` when empty or absent)."""
    return pl.col(f"r_{name}")


def _money_shape(decimal_separator: str) -> str:
    return rf"^([0-9]{{1,13}})(?:{re.escape(decimal_separator)}([0-9]{{1,2}}))?$"


def _condition_words(rules: CleaningRules) -> dict[str, str]:
    """Exact cells whose condition is certain (``""`` → the default, when it is valid)."""
    words: dict[str, str] = {}
    for word in [*BUILTIN_CONDITIONS, *rules.condition_map]:
        for spelling in {word, word.upper(), word.title(), word.capitalize()}:
            try:
                words[spelling] = cleaning.parse_condition(
                    spelling, condition_map=rules.condition_map
                )
            except CellRejected:
                continue
    try:
        default = rules.defaults.get("condition", "")
        words[""] = cleaning.parse_condition(default, condition_map=rules.condition_map)
    except CellRejected:
        words.pop("", None)
    return words


@dataclass(frozen=True, slots=True)
class FieldShape:
    """A field's fast shape (``fast``: the cell has it) and the value it then has."""

    fast: pl.Expr
    value: pl.Expr


def field_shapes(rules: CleaningRules, has_timestamps: bool) -> dict[str, FieldShape]:
    """The fast shape of every field that has one (sku, brand and title are always fast)."""
    words = [trim(word).lower() for word in rules.quantity_words]
    quantity = raw("quantity_available")
    quantity_fast = quantity.str.contains(r"^[0-9]{1,15}$")
    if words:
        quantity_fast = quantity_fast & ~quantity.is_in(words)
    shapes = {
        "quantity_available": FieldShape(quantity_fast, quantity.cast(pl.Int64, strict=False))
    }
    money = _money_shape(rules.decimal_separator)
    for name in MONEY_FIELDS:
        empty_ok = pl.lit(name not in rules.defaults) & (raw(name) == "")
        shapes[name] = FieldShape(
            raw(name).str.contains(money) | empty_ok, _money_cents(name, rules.decimal_separator)
        )
    lead = raw("lead_time_days")
    lead_empty = pl.lit("lead_time_days" not in rules.defaults) & (lead == "")
    shapes["lead_time_days"] = FieldShape(
        lead.str.contains(r"^[0-9]{1,9}$") | lead_empty,
        pl.when(lead == "").then(None).otherwise(lead).cast(pl.Int64, strict=False),
    )
    conditions = _condition_words(rules)
    shapes["condition"] = FieldShape(
        raw("condition").is_in(list(conditions)),
        raw("condition").replace_strict(conditions, default=None, return_dtype=pl.String),
    )
    if has_timestamps:
        stamp = raw("updated_at")
        valid = stamp.str.to_datetime("%Y-%m-%dT%H:%M:%SZ", strict=False).is_not_null()
        shapes["updated_at"] = FieldShape(stamp.str.contains(_ISO_Z) & valid, stamp)
    return shapes


def fast_mask(rules: CleaningRules, has_timestamps: bool) -> pl.Expr:
    """True for rows the vectorised path cleans exactly."""
    return _all_fast(field_shapes(rules, has_timestamps))


def _all_fast(shapes: dict[str, FieldShape]) -> pl.Expr:
    return pl.all_horizontal([shape.fast for shape in shapes.values()])


def _money_cents(name: str, decimal_separator: str) -> pl.Expr:
    """Cents of a fast-shape amount, exactly, through a float (three times cheaper than a
    decimal cast).

    A fast amount is ``n / 100`` for an integer ``n < 10**15``. Polars parses text to the
    nearest double (correctly rounded, relative error ≤ 2**-53) and the product by 100 adds
    one more such error, so the result is within ``n * 2.3e-16 < 0.23`` of ``n``: rounding
    gives ``n`` itself, and every integer below 2**53 converts to Int64 exactly.
    """
    text = raw(name) if decimal_separator == "." else raw(name).str.replace(",", ".", literal=True)
    amount = text.cast(pl.Float64, strict=False)
    return (amount * 100).round().cast(pl.Int64, strict=False).alias(name)


def text_column(name: str, rules: CleaningRules) -> pl.Expr:
    """Trimmed with whitespace runs collapsed; empty → the default (collapsed) or null."""
    collapsed = raw(name).str.replace_all(_RUNS, " ").str.strip_chars(" ")
    fallback = pl.lit(collapse(rules.defaults.get(name)), pl.String)
    return pl.when(collapsed == "").then(fallback).otherwise(collapsed).alias(name)


def _key(field: str, rules: CleaningRules) -> pl.Expr:
    stripped = raw(field).str.strip_chars()
    default = trim(rules.defaults.get(field))
    if not default:  # an empty cell stays empty
        return stripped
    return pl.when(stripped == "").then(pl.lit(default)).otherwise(stripped)


def _fallback(rules: CleaningRules, has_fallback: bool) -> pl.Expr:
    """The SKU when the key is not in the map: the sku cell, else the vendor SKU."""
    if not has_fallback:
        return pl.col("__key")
    cell = _key("sku", rules)
    return pl.when(cell != "").then(cell).otherwise(pl.col("__key"))


def with_sku(
    frame: pl.LazyFrame, rules: CleaningRules, *, key_field: str, has_fallback: bool
) -> pl.LazyFrame:
    """Adds ``sku``, ``vendor_sku`` and ``e_sku`` (the SKU's rejection code) to every row.

    The SKU rule is vectorised for clean and dirty rows alike. Without a map, every SKU is
    unmapped (the map's terms drop out of the expressions).
    """
    frame = frame.with_columns(_key(key_field, rules).alias("__key"))
    frame = with_sku_map(
        frame.with_columns(_fallback(rules, has_fallback).alias("__fallback")), rules
    )
    fallback = pl.col("__fallback")
    candidate: pl.Expr = pl.when(fallback != "").then(fallback)
    unmapped: pl.Expr = pl.lit(True)
    if rules.sku_map is not None:
        candidate = pl.coalesce(pl.col("__mapped"), candidate)
        unmapped = pl.col("__mapped").is_null()
    if rules.upper:
        candidate = candidate.str.to_uppercase()
    frame = frame.with_columns(
        candidate.alias("sku"),
        pl.when(pl.col("__key") != "").then(pl.col("__key")).alias("vendor_sku"),
    )
    checks = [(unmapped & (fallback == ""), "missing_sku")]  # the first that holds
    if rules.sku_map is not None and rules.reject_unmapped:
        checks.append((unmapped, "unmapped_sku"))
    checks.append((pl.col("sku").str.contains(_MANGLED), "mangled_sku"))
    code: pl.Expr = pl.lit(None, pl.String)
    for condition, name in reversed(checks):
        code = pl.when(condition).then(pl.lit(name)).otherwise(code)
    return frame.with_columns(code.alias("e_sku"))


def clean_fast(frame: pl.LazyFrame, rules: CleaningRules, *, has_timestamps: bool) -> pl.LazyFrame:
    """Every cleaned column of every row (after :func:`with_sku`), as the vectorised path
    cleans it, and ``__fast``: true where that is exact. Only the SKU can reject a fast row;
    the other rows' columns are recomputed by :mod:`slow_rows` (brand, title and the SKU
    columns hold for every row)."""
    shapes = field_shapes(rules, has_timestamps)
    stamp = shapes["updated_at"].value if has_timestamps else pl.lit(rules.as_of_text)
    failed = pl.col("e_sku").is_not_null()
    fields = ("quantity_available", *MONEY_FIELDS, "lead_time_days", "condition")
    return frame.with_columns(
        _all_fast(shapes).alias("__fast"),
        pl.col("e_sku").alias("__error"),
        pl.when(failed).then(pl.lit("sku")).alias("__error_column"),
        pl.when(failed).then(pl.col("vendor_sku")).alias("__error_value"),
        *[shapes[name].value.alias(name) for name in fields],
        text_column("brand", rules),
        text_column("title", rules),
        stamp.alias("updated_at"),
        pl.lit(None, pl.String).alias("__w_quantity"),
        pl.lit(None, pl.String).alias("__w_timestamp"),
    )


def with_sku_map(frame: pl.LazyFrame, rules: CleaningRules) -> pl.LazyFrame:
    """Adds ``__mapped``: the map's SKU for the row's trimmed key (exact match), else null."""
    if rules.sku_map is None:
        return frame
    lookup = pl.LazyFrame(
        {"__key": list(rules.sku_map), "__mapped": list(rules.sku_map.values())},
        schema={"__key": pl.String, "__mapped": pl.String},
    )
    return frame.join(lookup, on="__key", how="left", maintain_order="left")
