"""Money columns written as text: integer cents → ``12.34`` (``-0.01``, ``0.05``).

The one rule for every money column the engine writes (normalized CSVs, the merged
inventory). Through a decimal: exact for any Int64 of cents (38 digits hold them all), and
polars writes it with its two decimals, several times faster than assembling the text.
"""

from __future__ import annotations

import polars as pl


def cents_decimal(cents: pl.Expr) -> pl.Expr:
    """Integer cents as a two-decimal number (written ``12.34``); null stays null."""
    return cents.cast(pl.Decimal(38, 2)) / 100
