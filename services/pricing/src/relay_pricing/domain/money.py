"""Money as integer cents; percentages as exact fractions."""

from __future__ import annotations

from decimal import Decimal


def to_cents(amount: Decimal) -> int:
    """Exact cents of a config amount (validated to at most two decimals)."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has more than two decimals")
    return int(cents)


def cents_text(cents: int) -> str:
    """``1234`` → ``12.34``; negative amounts keep their sign (``-1`` → ``-0.01``)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up (both ≥ 0, denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)
