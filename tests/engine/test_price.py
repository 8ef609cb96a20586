"""Price steps in integer cents: margin bases, floor, ceiling, every rounding mode."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest

from relay_pricing.domain.money import cents_text, half_up_div, to_cents
from relay_pricing.domain.pricing_frame import raw_price_column, with_price
from relay_pricing.domain.rounding import (
    PriceRule,
    price_cents,
    raw_price,
    round_down,
    round_to,
    round_up,
)
from relay_shared.tenant_config import PricingConfig


def rule(**pricing: object) -> PriceRule:
    return PriceRule.from_config(
        PricingConfig.model_validate({"base_margin_pct": "0.20", **pricing})
    )


def both(landed: int, map_cents: int | None, price_rule: PriceRule) -> int:
    """The scalar price, checked against the vectorised one."""
    scalar = price_cents(landed, map_cents, price_rule)
    frame = pl.DataFrame(
        {"landed": [landed], "map": [map_cents]}, schema={"landed": pl.Int64, "map": pl.Int64}
    )
    frame = frame.with_columns(raw_price_column(frame, "landed", price_rule))
    vector = with_price(frame.lazy(), "raw", "map", price_rule).collect().get_column("price").item()
    assert vector == scalar
    return scalar


SEED_RULE = {"min_price": "25.00", "rounding": {"mode": "nearest", "increment": "0.99"}}


def test_worked_example_min_price() -> None:
    # cost 10.00 + s/h 9.99 = 19.99 → raw 23.99 → floor 25.00 → nearest 24.99 < floor → 25.99
    assert raw_price(1999, rule().factor) == 2399
    assert both(1999, None, rule(**SEED_RULE)) == 2599


def test_worked_example_map() -> None:
    # cost 50.00 + 9.99 = 59.99 → raw 71.99 → MAP 80.00 → nearest 79.99 < floor → 80.99
    assert raw_price(5999, rule().factor) == 7199
    assert both(5999, 8000, rule(**SEED_RULE)) == 8099


def test_markup_and_gross_margin() -> None:
    assert raw_price(1000, rule().factor) == 1200
    assert raw_price(1000, rule(margin_basis="gross_margin").factor) == 1250
    assert raw_price(1001, rule(base_margin_pct="0.3", margin_basis="gross_margin").factor) == 1430
    # 10.01 / 0.7 = 14.3 exactly; 0.05 × 1.2 = 0.06; 0.03 / 0.7 = 0.0428… → 0.04
    assert raw_price(3, rule(base_margin_pct="0.3", margin_basis="gross_margin").factor) == 4


def test_raw_price_is_half_up_to_a_cent() -> None:
    assert raw_price(1, Fraction(3, 2)) == 2  # 1.5 cents → 2
    assert raw_price(1, Fraction(5, 4)) == 1  # 1.25 cents → 1
    assert half_up_div(5, 2) == 3
    assert half_up_div(7, 4) == 2


def test_map_floor_only_when_enforced() -> None:
    assert both(1000, 5000, rule()) == 5000
    assert both(1000, 5000, rule(map_policy={"enforce": False})) == 1200
    assert both(1000, 500, rule()) == 1200
    assert both(1000, None, rule(min_price="30")) == 3000


def test_max_price_caps_but_never_below_floor() -> None:
    assert both(10000, None, rule(max_price="50")) == 5000
    assert both(10000, 9000, rule(max_price="50")) == 9000  # MAP floor over the ceiling
    assert both(100, None, rule(min_price="5", max_price="50")) == 500


@pytest.mark.parametrize(
    ("mode", "cents", "expected"),
    [
        ("none", 2500, 2500),
        ("down", 2500, 2499),
        ("up", 2500, 2599),
        ("nearest", 2500, 2499),
        ("nearest", 2549, 2599),
        ("nearest", 2548, 2499),
        ("up", 2599, 2599),
        ("down", 2599, 2599),
        ("down", 2598, 2499),
        ("nearest", 2550, 2599),
    ],
)
def test_rounding_modes(mode: str, cents: int, expected: int) -> None:
    assert round_to(cents, mode, 99) == expected  # type: ignore[arg-type]


def test_nearest_tie_goes_up() -> None:
    assert round_to(2500, "nearest", 50) == 2550  # 24.50 and 25.50 are 50 cents away
    assert round_to(2525, "nearest", 0) == 2500
    assert round_to(2550, "nearest", 0) == 2600  # 25.00 and 26.00 are 50 cents away
    assert round_down(2550, 0) == 2500
    assert round_up(2550, 0) == 2600


def test_rounding_applies_to_the_price() -> None:
    for mode, expected in (("none", 1200), ("down", 1199), ("up", 1299), ("nearest", 1199)):
        assert both(1000, None, rule(rounding={"mode": mode, "increment": "0.99"})) == expected
    assert both(1000, None, rule(rounding={"mode": "up"})) == 1299  # increment defaults to .99
    assert both(1010, None, rule(rounding={"mode": "up", "increment": "0.49"})) == 1249


def test_rounding_above_max_takes_the_largest_candidate_below_it() -> None:
    assert (
        both(4990, None, rule(max_price="60.00", rounding={"mode": "up", "increment": "0.99"}))
        == 5999
    )
    assert (
        both(5000, None, rule(max_price="60.50", rounding={"mode": "up", "increment": "0.99"}))
        == 5999
    )
    assert (
        both(5010, None, rule(max_price="60.50", rounding={"mode": "up", "increment": "0.49"}))
        == 6049
    )


def test_floor_wins_over_the_ceiling_after_rounding() -> None:
    # floor 60.50 (MAP) > max 60.00: none keeps the floor, up gives up(floor)
    assert both(100, 6050, rule(max_price="60.00")) == 6050
    assert both(100, 6050, rule(max_price="60.00", rounding={"mode": "down"})) == 6099
    assert both(100, 6050, rule(max_price="60.00", rounding={"mode": "nearest"})) == 6099


def test_below_floor_after_rounding_goes_up_from_the_floor() -> None:
    assert both(0, None, rule(rounding={"mode": "down", "increment": "0.99"})) == 99
    assert both(0, None, rule()) == 0  # a cost of 0.00 prices at 0.00 without floor or rounding


def test_big_amounts_stay_exact() -> None:
    huge = 10**17
    big_rule = rule(base_margin_pct="0.123456789")
    assert both(huge, None, big_rule) == raw_price(huge, big_rule.factor)
    assert raw_price(huge, big_rule.factor) == 112345678900000000


def test_money_helpers() -> None:
    assert to_cents(Decimal("9.99")) == 999
    assert to_cents(Decimal("25.0")) == 2500
    with pytest.raises(ValueError, match="two decimals"):
        to_cents(Decimal("1.001"))
    assert cents_text(5) == "0.05"
    assert cents_text(123456) == "1234.56"
    assert cents_text(-1) == "-0.01"


def test_output_money_text_is_exact_for_every_int64() -> None:
    """The merged output's money column: exact two-decimal text, the scalar helper's text."""
    from relay_pricing.domain import merged_output

    values = [0, 5, -5, -100, 99, 123456, 10**15 + 7, 2**63 - 1, -(2**63 - 1), None]
    frame = pl.DataFrame({"cents": values}, schema={"cents": pl.Int64})
    texts = frame.select(merged_output.cents_text(pl.col("cents"))).to_series().to_list()
    assert texts == [None if v is None else cents_text(v) for v in values]
    assert texts[:6] == ["0.00", "0.05", "-0.05", "-1.00", "0.99", "1234.56"]
    assert texts[7] == "92233720368547758.07"
