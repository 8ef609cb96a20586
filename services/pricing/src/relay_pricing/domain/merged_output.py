"""Writing the merged, priced inventory: CSV (always) and JSON (``output.format: json``).
(:mod:`relay_shared.merged_feed` reads the CSV back, for the services that take it.)

CSV: the ``output.columns``, header first, sorted by SKU, ``\\n`` line ends, UTF-8 without
BOM, money with two decimals, null as empty, quoting only where needed. JSON: an array of
objects with the same keys in the same order; money as strings, quantities and lead times as
numbers, null as null; two-space indent and a final newline.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from relay_shared.merged_feed import WHOLE_NUMBER_COLUMNS
from relay_shared.money_columns import cents_decimal
from relay_shared.tenant_config.models import OUTPUT_MONEY_COLUMNS


def cents_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents as ``12.34`` text (``-0.01`` for a negative amount); null stays null
    (text, so the JSON output gets strings)."""
    return cents_decimal(cents).cast(pl.String)


def output_frame(offers: pl.DataFrame | pl.LazyFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The output columns as text (money) or integers, in order."""
    return (
        offers.lazy()
        .select(
            cents_text(pl.col(name)).alias(name) if name in OUTPUT_MONEY_COLUMNS else pl.col(name)
            for name in columns
        )
        .collect()
    )


def merged_csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(
        buffer, include_header=True, line_terminator="\n", quote_style="necessary", null_value=""
    )
    return buffer.getvalue()


def merged_json(frame: pl.DataFrame) -> bytes:
    rows: list[dict[str, Any]] = frame.to_dicts()
    return (json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def empty_frame(columns: Sequence[str]) -> pl.DataFrame:
    schema = {name: pl.Int64 if name in WHOLE_NUMBER_COLUMNS else pl.String for name in columns}
    return pl.DataFrame(schema=schema)
