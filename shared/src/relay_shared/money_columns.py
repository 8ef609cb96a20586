"""Money columns written as text: integer cents → ``12.34`` (``-0.01``, ``0.05``), and back.

The one rule for every money column the engine writes (normalized CSVs, the merged
inventory) and reads back (a normalized CSV, in pricing). Through a decimal: exact for any
Int64 of cents (38 digits hold them all), and polars writes it with its two decimals, several
times faster than assembling the text.
"""

from __future__ import annotations

import polars as pl


def cents_decimal(cents: pl.Expr) -> pl.Expr:
    """Integer cents as a two-decimal number (written ``12.34``); null stays null."""
    return cents.cast(pl.Decimal(38, 2)) / 100


def cents_from_text(text: pl.Expr) -> pl.Expr:
    """:func:`cents_decimal`'s text read back as integer cents (``12.34`` → 1234, ``-0.01``
    → -1); null stays null. Only for that text: always two decimals."""
    return text.str.replace(".", "", literal=True).cast(pl.Int64)
