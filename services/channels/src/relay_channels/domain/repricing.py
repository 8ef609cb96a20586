"""A slow mover's new price (pure): ``reprice_pct`` off the current price, never below the
pricing floor of spec/feed-engine.md.

The floor is named by ``actions.slow_mover.floor``: ``map`` is the pricing engine's floor
with MAP enforced, ``max(min_price, map_price)`` (just ``min_price`` when the sku has no MAP);
``min_price`` is the tenant's ``pricing.min_price`` alone. Money is half-up to a cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

CENT = Decimal("0.01")
FloorName = Literal["map", "min_price"]


class NothingToRepriceError(ValueError):
    """The price cannot go down: it is at (or below) the floor already, or the percentage
    does not lower it."""


def pricing_floor(floor: FloorName, min_price: Decimal, map_price: Decimal | None) -> Decimal:
    if floor == "map" and map_price is not None:
        return max(min_price, map_price)
    return min_price


def repriced(price: Decimal, reprice_pct: Decimal, floor: Decimal) -> Decimal:
    """``price × (1 + reprice_pct/100)``, half-up to a cent, raised to ``floor``."""
    lowered = (price * (100 + reprice_pct) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    new_price = max(lowered, floor.quantize(CENT, rounding=ROUND_HALF_UP))
    if new_price >= price:
        raise NothingToRepriceError(
            f"price {price} cannot go down: {reprice_pct}% gives {lowered}, the floor is {floor}"
        )
    return new_price
