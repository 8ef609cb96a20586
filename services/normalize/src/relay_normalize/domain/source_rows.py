"""The rows of one SKU in a vendor's feed as read: row number, raw cells by header, and the
rejection a row got (for ``relay local-run --explain``).

The feed is read and cleaned by the very functions :func:`~relay_normalize.domain.feed.
normalize_feed` uses (reader, column mapping, field rules, SKU map), so a row's number and
cleaned SKU are the ones the run had. A feed that cannot be read has no rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from relay_normalize.domain.clean.cleaning_config import cleaning_config
from relay_normalize.domain.clean.rows import _clean_frame
from relay_normalize.domain.clean.sku_map import SkuMap
from relay_normalize.domain.findings import FeedFailure
from relay_normalize.domain.limits import DEFAULT_LIMITS, FeedLimits, FeedRefused
from relay_normalize.domain.read.columns import mapped_columns
from relay_normalize.domain.read.feed_source import FeedSource, scan_feed
from relay_normalize.domain.read.feed_table import read_feed_table
from relay_normalize.domain.read.raw_table import ROW, UnreadableFile
from relay_normalize.domain.write.source_index import unique_headers
from relay_shared.tenant_config import TenantConfig


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A row of the feed whose cleaned SKU is the one asked for."""

    row: int
    cells: dict[str, str | None]
    error: str | None  # the rejection's code; None for an accepted row


def sku_rows(
    source: FeedSource,
    sku: str,
    *,
    config: TenantConfig,
    vendor_id: str,
    as_of: datetime,
    sku_map: bytes | SkuMap | None,
    limits: FeedLimits = DEFAULT_LIMITS,
) -> list[SourceRow]:
    """Every row of the feed whose cleaned SKU is ``sku``, in file order."""
    vendor = config.vendor(vendor_id)
    try:
        cleaning = cleaning_config(config, vendor, as_of, sku_map)
        table = read_feed_table(source, vendor, limits, scan_feed(source))
        columns = mapped_columns(table, vendor)
        frame = _clean_frame(table, columns, cleaning, None)
    except (FeedFailure, FeedRefused, UnreadableFile):
        return []
    hits = frame.filter(pl.col("sku") == sku).select(ROW, "__error")
    numbers = hits.get_column(ROW).to_list()
    raw = table.frame.filter(pl.col(ROW).is_in(numbers)).rows_by_key(ROW, named=True, unique=True)
    headers = unique_headers(table.headers)
    return [
        SourceRow(
            row=number,
            cells={headers.get(name, name): value for name, value in raw[number].items()},
            error=error,
        )
        for number, error in hits.iter_rows()
    ]
