"""The price of one offer, step by step, in integer cents (spec "Price").

This scalar version is the reference; :mod:`pricing_frame` applies the same steps to whole
columns and a property test checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from relay_pricing.domain.money import half_up_div, to_cents
from relay_shared.tenant_config import PricingConfig

Mode = Literal["none", "nearest", "up", "down"]


@dataclass(frozen=True, slots=True)
class PriceRule:
    """Pricing config in cents: ``factor`` multiplies landed cost (markup or gross margin)."""

    factor: Fraction
    min_cents: int
    max_cents: int | None
    enforce_map: bool
    mode: Mode
    ending: int

    @classmethod
    def from_config(cls, pricing: PricingConfig) -> PriceRule:
        pct = Fraction(pricing.base_margin_pct)
        factor = 1 + pct if pricing.margin_basis == "markup" else 1 / (1 - pct)
        return cls(
            factor=factor,
            min_cents=to_cents(pricing.min_price),
            max_cents=None if pricing.max_price is None else to_cents(pricing.max_price),
            enforce_map=pricing.map_policy.enforce,
            mode=pricing.rounding.mode,
            ending=to_cents(pricing.rounding.increment),
        )


def round_down(cents: int, ending: int) -> int:
    """The largest ``100·k + ending`` ≤ ``cents``."""
    return (cents - ending) // 100 * 100 + ending


def round_up(cents: int, ending: int) -> int:
    """The smallest ``100·k + ending`` ≥ ``cents``."""
    down = round_down(cents, ending)
    return down if down == cents else down + 100


def round_to(cents: int, mode: Mode, ending: int) -> int:
    if mode == "none":
        return cents
    down, up = round_down(cents, ending), round_up(cents, ending)
    if mode == "down":
        return down
    if mode == "up":
        return up
    return down if cents - down < up - cents else up


def raw_price(landed: int, factor: Fraction) -> int:
    """``landed × factor`` half-up to a cent."""
    return half_up_div(landed * factor.numerator, factor.denominator)


def floor_cents(rule: PriceRule, map_cents: int | None) -> int:
    if rule.enforce_map and map_cents is not None:
        return max(rule.min_cents, map_cents)
    return rule.min_cents


def price_cents(landed: int, map_cents: int | None, rule: PriceRule) -> int:
    """The final price of an offer whose landed cost is ``landed`` cents."""
    floor = floor_cents(rule, map_cents)
    price = max(raw_price(landed, rule.factor), floor)
    if rule.max_cents is not None:
        price = max(min(price, rule.max_cents), floor)
    result = round_to(price, rule.mode, rule.ending)
    if rule.max_cents is not None and result > rule.max_cents and rule.mode != "none":
        result = round_down(rule.max_cents, rule.ending)
    if result < floor:
        result = floor if rule.mode == "none" else round_up(floor, rule.ending)
    return result
