"""The normalized CSV of one vendor: the hand-off between normalize and pricing.

Columns in this order: sku, vendor_sku, vendor_id, quantity_available, lead_time_days, cost,
map_price, msrp, condition, brand, title, updated_at. UTF-8 without BOM, ``\\n`` line ends,
money with two decimals, null as empty, quoting only where needed.
"""

from __future__ import annotations

import io

import polars as pl

NORMALIZED_COLUMNS = (
    "sku",
    "vendor_sku",
    "vendor_id",
    "quantity_available",
    "lead_time_days",
    "cost",
    "map_price",
    "msrp",
    "condition",
    "brand",
    "title",
    "updated_at",
)
MONEY_COLUMNS = ("cost", "map_price", "msrp")


def cents_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents as a two-decimal number (written ``12.34``); null stays null."""
    return cents.cast(pl.Decimal(18, 2)) / 100


def write_normalized_csv(rows: pl.DataFrame, vendor_id: str) -> bytes:
    """``rows`` has typed columns (money in cents); returns the CSV bytes."""
    frame = rows.select(
        pl.col("sku"),
        pl.col("vendor_sku"),
        pl.lit(vendor_id).alias("vendor_id"),
        pl.col("quantity_available"),
        pl.col("lead_time_days"),
        *[cents_text(pl.col(name)).alias(name) for name in MONEY_COLUMNS],
        pl.col("condition"),
        pl.col("brand"),
        pl.col("title"),
        pl.col("updated_at"),
    )
    buffer = io.BytesIO()
    frame.write_csv(
        buffer, include_header=True, line_terminator="\n", quote_style="necessary", null_value=""
    )
    return buffer.getvalue()
