"""The feed's rows as read, indexed by cleaned SKU, for explain
(:mod:`relay_shared.explain.source_format`).

Built from the frames normalize already holds: the raw table (text cells by position and the
row number, as read) and the cleaned rows' ``sku`` and ``__error`` (the first rejection's
code), which :func:`~relay_normalize.domain.clean.rows.clean_table` keeps in the raw table's
order. No second read of the feed and no field rule applied again: a row's number, cleaned
SKU and rejection are the run's. Rows whose SKU could not be cleaned are left out (they
cannot be looked up by SKU).
"""

from __future__ import annotations

import polars as pl

from relay_normalize.domain.read.raw_table import ROW, RawTable, column_name
from relay_shared.explain.source_format import (
    ERROR,
    POS,
    SKU,
    SourceRows,
)
from relay_shared.explain.source_format import ROW as INDEX_ROW


def unique_headers(headers: list[str]) -> dict[str, str]:
    """Frame column → its header; a repeated header gets ``#<position>`` after it."""
    seen: set[str] = set()
    names: dict[str, str] = {}
    for position, header in enumerate(headers):
        name = header if header not in seen else f"{header}#{position + 1}"
        seen.add(header)
        names[column_name(position)] = name
    return names


def source_rows(
    table: RawTable, cleaned: pl.DataFrame, *, tenant_id: str, vendor_id: str
) -> SourceRows:
    """``table``'s rows for the index (no copy: the table's and ``cleaned``'s columns);
    ``cleaned``: each row's ``sku`` and ``__error``, in the table's order (one row each)."""
    if cleaned.height != table.frame.height:
        raise ValueError(
            f"vendor {vendor_id}: {cleaned.height} cleaned rows for {table.frame.height} read"
        )
    key_rows = pl.DataFrame(
        [
            cleaned.get_column("sku").alias(SKU),
            table.frame.get_column(ROW).alias(INDEX_ROW),
            cleaned.get_column("__error").alias(ERROR),
            pl.int_range(0, table.frame.height, dtype=pl.Int64, eager=True).alias(POS),
        ]
    )
    if key_rows.get_column(SKU).null_count():
        key_rows = key_rows.filter(pl.col(SKU).is_not_null())
    cells = table.frame.drop(ROW)
    names = unique_headers(table.headers)
    headers = [names.get(name, name) for name in cells.columns]
    return SourceRows(tenant_id, vendor_id, key_rows, cells, headers)
