"""``normalize_feed``: one vendor's raw bytes → normalized rows, findings and counts.

Read (:mod:`.read`: the file → a table of text cells → the vendor's columns), clean
(:mod:`.clean`: the field rules, vectorised and per cell), write (:mod:`.write`: the
normalized CSV and the report).

Decisions where the spec is silent:
- ``missing_cost`` is reported here (the row number is known here, not after the hand-off).
- a duplicate row gets only ``duplicate_sku``; its other warnings are not reported.
- a rejected row's ``value`` is its trimmed cell (the config default when the cell was empty).
- ``warnings`` in the counts counts this feed's row warnings (``duplicate_sku`` included).
- a JSON ``[]`` (or a JSONL file of blank lines) is an empty feed; an empty CSV has no
  header, so its mapped columns are missing.
- a feed is bounded (:class:`FeedLimits`: decoded size, rows, columns, cell, JSONL line, JSON
  nesting, memory); beyond a bound it fails with ``feed_too_large``, ``too_many_rows``,
  ``too_many_columns``, ``cell_too_large``, ``line_too_long`` or ``nesting_too_deep``, whose
  message names the limit and where (``row``, and ``column`` when a mapped column is at fault).
  An encoding that is not a text codec fails it with ``unsupported_encoding`` before a byte is
  decoded (the config validator refuses it too; this holds for a config it never saw).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from relay_normalize.domain.clean.cleaning_config import CleaningConfig, cleaning_config
from relay_normalize.domain.clean.rows import CleanRows, clean_table
from relay_normalize.domain.clean.sku_map import SkuMap
from relay_normalize.domain.findings import FeedFailure, feed_failure, finding
from relay_normalize.domain.limits import DEFAULT_LIMITS, FeedLimits, FeedRefused, MemoryBudget
from relay_normalize.domain.read.columns import canonical_field, check_cells, mapped_columns
from relay_normalize.domain.read.feed_source import FeedScan, FeedSource, scan_feed
from relay_normalize.domain.read.feed_table import read_feed_table
from relay_normalize.domain.read.raw_table import RawTable, UnreadableFile
from relay_normalize.domain.write.normalized_csv import offers_csv, offers_frame
from relay_normalize.domain.write.report import NormalizedFeed
from relay_normalize.domain.write.source_index import source_rows
from relay_shared.events import VendorCounts
from relay_shared.tenant_config import TenantConfig, VendorConfig


def normalize_feed(
    source: FeedSource,
    *,
    config: TenantConfig,
    vendor_id: str,
    as_of: datetime,
    sku_map: bytes | SkuMap | None,
    with_csv: bool = True,
    limits: FeedLimits = DEFAULT_LIMITS,
    with_source: bool = False,
    scan: FeedScan | None = None,
) -> NormalizedFeed:
    """Normalizes one vendor's feed: its bytes, or the path of the file holding them.

    No I/O but reading ``source``: a file is read in chunks or by polars from the file
    itself (:mod:`.read.feed_source`; only a JSON array is read whole); an ``OSError``
    reading it propagates.
    ``sku_map`` is the map file's bytes, or the map read from them (:class:`SkuMap`);
    ``None`` when there is none. A vendor whose config
    names a file map and gets ``None`` fails with ``sku_map_unavailable``. ``as_of`` must be
    timezone-aware (a naive one is taken as UTC). Raises ``KeyError`` for an unknown vendor.
    With ``with_csv=False`` an ok feed has only its ``offers`` frame (``normalized_csv`` is
    ``None``): a caller that writes the CSV itself (:func:`offers_csv`) does it when it suits.
    ``limits`` bound the feed (a feed beyond one fails with a finding naming it).
    With ``with_source`` a feed that was cleaned (ok, or failed on its invalid rows) also
    keeps its rows as read for explain's index (``rows_as_read``, :mod:`.write.source_index`;
    the caller encodes and stores it).
    ``scan`` is the caller's :func:`scan_feed` of ``source`` when it has one (a service
    fingerprints the file it staged before it normalizes it): the file is then not scanned
    again.
    """
    vendor = config.vendor(vendor_id)
    if scan is None:
        scan = scan_feed(source)
    try:
        cleaning = cleaning_config(config, vendor, as_of, sku_map)
        table = _read(source, vendor, limits, scan)
        columns = mapped_columns(table, vendor)
        check_cells(table, vendor, limits)
        clean, memory = _clean(table, columns, cleaning, vendor, limits)
    except FeedFailure as failure:
        counts = VendorCounts(sha256=scan.sha256)
        return NormalizedFeed(vendor_id, "failed", None, failure.findings, [], counts, failure.code)
    rows_as_read = None
    if with_source and clean.keys is not None:
        rows_as_read = source_rows(
            table, clean.keys, tenant_id=config.tenant_id, vendor_id=vendor_id
        )
    del table
    limit = config.error_policy.max_invalid_row_pct
    feed = _outcome(vendor_id, clean, limit, scan.sha256, with_csv=with_csv)
    return dataclasses.replace(feed, memory_estimate=memory, rows_as_read=rows_as_read)


def _outcome(
    vendor_id: str, clean: CleanRows, limit: Decimal, digest: str, *, with_csv: bool
) -> NormalizedFeed:
    accepted = clean.data_rows - clean.rejected - clean.duplicates
    counts = VendorCounts(
        rows=clean.data_rows,
        accepted=accepted,
        rejected=clean.rejected,
        duplicates=clean.duplicates,
        warnings=len(clean.warnings),
        sha256=digest,
    )
    if clean.data_rows and Decimal(clean.rejected) / Decimal(clean.data_rows) > limit:
        detail = f"{clean.rejected} of {clean.data_rows} rows, above {limit}"
        failure = finding(vendor_id, "too_many_invalid_rows", detail=detail)
        return NormalizedFeed(
            vendor_id,
            "failed",
            None,
            [failure, *clean.errors],
            clean.warnings,
            counts,
            "too_many_invalid_rows",
        )
    offers = offers_frame(clean.rows, vendor_id)
    csv = offers_csv(offers) if with_csv else None
    return NormalizedFeed(vendor_id, "ok", csv, clean.errors, clean.warnings, counts, offers=offers)


def _read(source: FeedSource, vendor: VendorConfig, limits: FeedLimits, scan: FeedScan) -> RawTable:
    try:
        return read_feed_table(source, vendor, limits, scan)
    except UnreadableFile as problem:
        raise feed_failure(vendor.vendor_id, "unparseable_file", detail=str(problem)) from problem
    except FeedRefused as refused:
        raise _refusal(vendor, refused) from refused


def _clean(
    table: RawTable,
    columns: dict[str, str],
    cleaning: CleaningConfig,
    vendor: VendorConfig,
    limits: FeedLimits,
) -> tuple[CleanRows, int]:
    """The table cleaned, its memory charged as it goes (from the reader's estimate); the
    final estimate."""
    budget = MemoryBudget(limits, table.memory)
    try:
        return clean_table(table, columns, cleaning, budget), budget.spent
    except FeedRefused as refused:
        raise _refusal(vendor, refused) from refused


def _refusal(vendor: VendorConfig, refused: FeedRefused) -> FeedFailure:
    column = None if refused.header is None else canonical_field(vendor, refused.header)
    item = finding(
        vendor.vendor_id,
        refused.code,
        row=refused.row,
        column=column,
        value=refused.value,
        detail=refused.detail,
    )
    return FeedFailure(refused.code, [item])
