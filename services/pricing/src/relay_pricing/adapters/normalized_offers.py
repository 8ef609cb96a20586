"""Reading the hand-off normalize stored for a vendor (the services' path) into the engine's
input: its report, and its rows read into the typed offers frame the merge takes (money in
integer cents). Only the columns asked for are read.

The rows come as Parquet (``rows.normalized``'s ``handoff_key``: normalize's own frame, read
back column by column) or, for a result from before there was one, from the normalized CSV
(money back from text to cents). Both give the same frame.

``relay local-run`` hands the engine normalize's own frame instead, the same rows: see
``relay_cli.local_run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import polars as pl

from relay_pricing.domain import VendorFeed
from relay_shared.errors import PermanentError
from relay_shared.merged_feed import WHOLE_NUMBER_COLUMNS
from relay_shared.money_columns import cents_from_text
from relay_shared.tenant_config.models import MONEY_FIELDS, NORMALIZED_COLUMNS
from relay_shared.vendor_report import VendorReport

#: How the stored rows are written: the normalized CSV, or the Parquet hand-off.
RowsFormat = Literal["csv", "parquet"]

_SCHEMA = {
    name: pl.Int64 if name in WHOLE_NUMBER_COLUMNS else pl.String for name in NORMALIZED_COLUMNS
}
#: The offers frame's types (money in integer cents).
_TYPED = {**_SCHEMA, **{name: pl.Int64 for name in MONEY_FIELDS}}


def read_offers(
    normalized_csv: bytes | Path, columns: Sequence[str] = NORMALIZED_COLUMNS
) -> pl.DataFrame:
    """The typed offers of a normalized CSV (its bytes or its file), only ``columns`` (in
    the CSV's order); an empty file (not even a header) has none."""
    wanted = _wanted(columns)
    frame = pl.read_csv(normalized_csv, schema=_SCHEMA, columns=wanted, raise_if_empty=False)
    return frame.with_columns(
        cents_from_text(pl.col(name)).alias(name) for name in MONEY_FIELDS if name in wanted
    )


def read_offers_parquet(
    handoff: bytes | Path, columns: Sequence[str] = NORMALIZED_COLUMNS
) -> pl.DataFrame:
    """The typed offers of a Parquet hand-off (its bytes or its file), only ``columns`` (in
    :data:`NORMALIZED_COLUMNS` order, as :func:`read_offers` gives them): only their column
    chunks are decoded. ``InvalidHandoffError`` when a column is missing or of another type
    (the file is not an offers frame)."""
    wanted = _wanted(columns)
    schema = pl.read_parquet_schema(handoff)  # the footer only
    wrong = {name: str(schema.get(name)) for name in wanted if schema.get(name) != _TYPED[name]}
    if wrong:
        raise InvalidHandoffError(f"the hand-off's columns are missing or not typed: {wrong}")
    return pl.read_parquet(handoff, columns=wanted).select(wanted)


def vendor_feed(
    report: VendorReport,
    rows: bytes | Path | None,
    columns: Sequence[str] = NORMALIZED_COLUMNS,
    rows_format: RowsFormat = "csv",
) -> VendorFeed:
    """The engine's input for a vendor from its stored report and rows (read only for a
    feed that is ok: the engine uses no other feed's rows)."""
    offers = None
    if report.status == "ok" and rows is not None:
        read = read_offers_parquet if rows_format == "parquet" else read_offers
        offers = read(rows, columns)
    return VendorFeed(report, offers)


class InvalidHandoffError(PermanentError):
    """A Parquet hand-off that does not hold an offers frame (no retry reads it better)."""

    code = "invalid_handoff"


def _wanted(columns: Sequence[str]) -> list[str]:
    return [name for name in NORMALIZED_COLUMNS if name in columns]
