"""The normalized offers of one vendor: the hand-off between normalize and pricing.

Two forms of the same rows: the typed frame (:func:`offers_frame`, money in integer cents),
which ``relay local-run`` hands to the merge as it is, and the CSV the services store
(:func:`offers_csv`). Columns in :data:`NORMALIZED_COLUMNS` order. CSV: UTF-8 without BOM,
``\\n`` line ends, money with two decimals, null as empty, quoting only where needed. Text
cells are never empty (an empty text is null), so the CSV reads back to the same frame.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import polars as pl

from relay_shared.money_columns import cents_decimal
from relay_shared.tenant_config.models import MONEY_FIELDS, NORMALIZED_COLUMNS


def offers_frame(rows: pl.DataFrame, vendor_id: str) -> pl.DataFrame:
    """The normalized columns of the cleaned ``rows`` (typed, money in cents), in order."""
    return rows.select(
        pl.lit(vendor_id, pl.String).alias(name) if name == "vendor_id" else pl.col(name)
        for name in NORMALIZED_COLUMNS
    )


def offers_csv(offers: pl.DataFrame) -> bytes:
    """The CSV bytes of an :func:`offers_frame`."""
    buffer = io.BytesIO()
    write_offers_csv(offers, buffer)
    return buffer.getvalue()


def write_offers_csv(offers: pl.DataFrame, into: str | Path | IO[bytes]) -> None:
    """Writes the CSV of an :func:`offers_frame` into a binary stream or a file (a path:
    polars writes it without holding the GIL)."""
    frame = offers.select(
        cents_decimal(pl.col(name)).alias(name) if name in MONEY_FIELDS else pl.col(name)
        for name in NORMALIZED_COLUMNS
    )
    frame.write_csv(
        into, include_header=True, line_terminator="\n", quote_style="necessary", null_value=""
    )
