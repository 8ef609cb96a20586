"""The price steps of :mod:`rounding` as polars expressions over whole columns (Int64 cents)."""

from __future__ import annotations

import polars as pl

from relay_pricing.domain.rounding import PriceRule, raw_price

_SAFE = 2**62


def _down(cents: pl.Expr, ending: int) -> pl.Expr:
    return (cents - ending) // 100 * 100 + ending


def _up(cents: pl.Expr, ending: int) -> pl.Expr:
    down = _down(cents, ending)
    return pl.when(down == cents).then(down).otherwise(down + 100)


def _round(cents: pl.Expr, rule: PriceRule) -> pl.Expr:
    if rule.mode == "none":
        return cents
    if rule.mode == "down":
        return _down(cents, rule.ending)
    if rule.mode == "up":
        return _up(cents, rule.ending)
    down, up = _down(cents, rule.ending), _up(cents, rule.ending)
    return pl.when(cents - down < up - cents).then(down).otherwise(up)


def raw_price_column(frame: pl.DataFrame, landed: str, rule: PriceRule) -> pl.Series:
    """``landed × factor`` half-up; exact big-number arithmetic when Int64 could overflow."""
    num, den = rule.factor.numerator, rule.factor.denominator
    column = frame.get_column(landed)
    top = column.max()
    largest = int(top) if isinstance(top, int) else 0
    if 2 * largest * num + den < _SAFE:
        return frame.select(
            ((2 * pl.col(landed) * num + den) // (2 * den)).alias("raw")
        ).to_series()
    values = column.unique().to_list()
    prices = [raw_price(value, rule.factor) for value in values]
    lookup = pl.DataFrame(
        {landed: values, "raw": prices}, schema={landed: pl.Int64, "raw": pl.Int64}
    )
    return frame.select(landed).join(lookup, on=landed, how="left", maintain_order="left")["raw"]


def price_expression(raw: pl.Expr, map_cents: pl.Expr, rule: PriceRule) -> pl.Expr:
    """Steps 3–5 of the spec: floor, ceiling, rounding, and the floor winning at the end."""
    floor = pl.lit(rule.min_cents, pl.Int64)
    if rule.enforce_map:
        floor = pl.max_horizontal(floor, map_cents.fill_null(rule.min_cents))
    price = pl.max_horizontal(raw, floor)
    if rule.max_cents is not None:
        price = pl.max_horizontal(pl.min_horizontal(price, pl.lit(rule.max_cents)), floor)
    result = _round(price, rule)
    if rule.max_cents is not None and rule.mode != "none":
        ceiling = _down(pl.lit(rule.max_cents, pl.Int64), rule.ending)
        result = pl.when(result > rule.max_cents).then(ceiling).otherwise(result)
    lifted = floor if rule.mode == "none" else _up(floor, rule.ending)
    return pl.when(result < floor).then(lifted).otherwise(result)
