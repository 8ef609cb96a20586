"""Reading the hand-off normalize stored for a vendor (the services' path) into the engine's
input: its report, and its normalized CSV read into the typed offers frame the merge takes
(money back to integer cents). Only the columns asked for are read.

``relay local-run`` hands the engine normalize's own frame instead, the same rows: see
``relay_cli.local_run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from relay_pricing.domain import VendorFeed
from relay_shared.merged_feed import WHOLE_NUMBER_COLUMNS
from relay_shared.money_columns import cents_from_text
from relay_shared.tenant_config.models import MONEY_FIELDS, NORMALIZED_COLUMNS
from relay_shared.vendor_report import VendorReport

_SCHEMA = {
    name: pl.Int64 if name in WHOLE_NUMBER_COLUMNS else pl.String for name in NORMALIZED_COLUMNS
}


def read_offers(
    normalized_csv: bytes | Path, columns: Sequence[str] = NORMALIZED_COLUMNS
) -> pl.DataFrame:
    """The typed offers of a normalized CSV (its bytes or its file), only ``columns`` (in
    the CSV's order); an empty file (not even a header) has none."""
    wanted = [name for name in NORMALIZED_COLUMNS if name in columns]
    frame = pl.read_csv(normalized_csv, schema=_SCHEMA, columns=wanted, raise_if_empty=False)
    return frame.with_columns(
        cents_from_text(pl.col(name)).alias(name) for name in MONEY_FIELDS if name in wanted
    )


def vendor_feed(
    report: VendorReport,
    normalized_csv: bytes | Path | None,
    columns: Sequence[str] = NORMALIZED_COLUMNS,
) -> VendorFeed:
    """The engine's input for a vendor from its stored report and normalized CSV (read only
    for a feed that is ok: the engine uses no other feed's rows)."""
    offers = None
    if report.status == "ok" and normalized_csv is not None:
        offers = read_offers(normalized_csv, columns)
    return VendorFeed(report, offers)
