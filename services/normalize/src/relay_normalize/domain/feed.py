"""``normalize_feed``: one vendor's raw bytes → normalized CSV, findings and stats.

Decisions where the spec is silent:
- with both ``sku`` and ``vendor_sku`` mapped, a vendor SKU missing from the map takes the
  sku cell, or the vendor SKU itself when that cell is empty.
- ``missing_cost`` is reported here (the row number is known here, not after the hand-off).
- a duplicate row gets only ``duplicate_sku``; its other warnings are not reported.
- a rejected row's ``value`` is its trimmed cell (the config default when the cell was empty).
- ``warnings`` in the stats counts this feed's row warnings (``duplicate_sku`` included).
- a JSON ``[]`` (or a JSONL file of blank lines) is an empty feed; an empty CSV has no
  header, so its mapped columns are missing.
- with a sku map given as bytes, they are used even when the config has none or an inline
  one (``local-run --sku-map`` overrides); ``on_missing`` then comes from the config or is
  ``passthrough``.
- a feed is bounded (:class:`FeedLimits`: decoded size, rows, columns, cell, JSONL line, JSON
  nesting, memory); beyond a bound it fails with ``feed_too_large``, ``too_many_rows``,
  ``too_many_columns``, ``cell_too_large``, ``line_too_long`` or ``nesting_too_deep``, whose
  message names the limit and where (``row``, and ``column`` when a mapped column is at fault).
  An encoding that is not a text codec fails it with ``unsupported_encoding`` before a byte is
  decoded (the config validator refuses it too; this holds for a config it never saw).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl

from relay_normalize.domain.feed_source import FeedScan, FeedSource, is_text_codec, scan_feed
from relay_normalize.domain.findings import FeedFailure, Finding, finding
from relay_normalize.domain.frame_rows import CleanRows, clean_table
from relay_normalize.domain.limits import DEFAULT_LIMITS, FeedLimits, FeedRefused, MemoryBudget
from relay_normalize.domain.normalized_csv import offers_csv, offers_frame
from relay_normalize.domain.parsing_csv import read_csv_table
from relay_normalize.domain.parsing_json import read_json_table, read_jsonl_table
from relay_normalize.domain.parsing_xlsx import read_xlsx_table
from relay_normalize.domain.raw_table import ROW, RawTable, UnreadableFile, column_name
from relay_normalize.domain.rules import CleaningRules
from relay_normalize.domain.sku_map import SkuMapError, check_inline_map, parse_sku_map
from relay_normalize.domain.text_cells import trim
from relay_shared.tenant_config import TenantConfig, VendorConfig


@dataclass(frozen=True, slots=True)
class FeedStats:
    """Counts of one feed: ``rows = accepted + rejected + duplicates``."""

    rows: int
    accepted: int
    rejected: int
    duplicates: int
    warnings: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "warnings": self.warnings,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class NormalizedFeed:
    """The result of one vendor's feed.

    ``status`` is ``"ok"`` or ``"failed"``; ``normalized_csv`` is ``None`` when failed (or
    not asked for); ``failure_code`` is the feed-level code of a failed feed; ``findings``
    lists the errors (feed-level first, then by row) followed by the warnings (by row).
    ``offers`` is the typed frame of the normalized rows (``None`` when failed), the CSV's
    source: the merge takes it as it is when the hand-off does not go through a file.
    ``memory_estimate`` is what the engine estimated normalizing it takes (:mod:`limits`;
    0 when it failed before that was known).
    """

    vendor_id: str
    status: Literal["ok", "failed"]
    normalized_csv: bytes | None
    errors: list[Finding]
    warnings: list[Finding]
    stats: FeedStats
    failure_code: str | None = None
    offers: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    memory_estimate: int = field(default=0, repr=False, compare=False)

    @property
    def findings(self) -> list[Finding]:
        return [*self.errors, *self.warnings]

    def report(self) -> dict[str, Any]:
        """The JSON hand-off document (what pricing needs besides the CSV)."""
        return {
            "vendor_id": self.vendor_id,
            "status": self.status,
            "failure_code": self.failure_code,
            "stats": self.stats.as_dict(),
            "errors": [item.as_dict() for item in self.errors],
            "warnings": [item.as_dict() for item in self.warnings],
        }


def normalize_feed(
    source: FeedSource,
    *,
    config: TenantConfig,
    vendor_id: str,
    as_of: datetime,
    sku_map: bytes | None,
    with_csv: bool = True,
    limits: FeedLimits = DEFAULT_LIMITS,
) -> NormalizedFeed:
    """Normalizes one vendor's feed: its bytes, or the path of the file holding them.

    No I/O but reading ``source``: a file is read in chunks or by polars from the file
    itself (:mod:`feed_source`; only a JSON array is read whole); an ``OSError`` reading it
    propagates.
    ``sku_map`` is the map file's bytes; ``None`` when there is none. A vendor whose config
    names a file map and gets ``None`` fails with ``sku_map_unavailable``. ``as_of`` must be
    timezone-aware (a naive one is taken as UTC). Raises ``KeyError`` for an unknown vendor.
    With ``with_csv=False`` an ok feed has only its ``offers`` frame (``normalized_csv`` is
    ``None``): a caller that writes the CSV itself (:func:`offers_csv`) does it when it suits.
    ``limits`` bound the feed (a feed beyond one fails with a finding naming it).
    """
    vendor = config.vendor(vendor_id)
    scan = scan_feed(source)
    digest = scan.sha256
    try:
        rules = _rules(config, vendor, as_of, sku_map)
        table = _read(source, vendor, limits, scan)
        columns = _resolve_columns(table, vendor)
        _check_cells(table, vendor, limits)
        clean, memory = _clean(table, columns, rules, vendor, limits)
    except FeedFailure as failure:
        stats = FeedStats(0, 0, 0, 0, 0, digest)
        return NormalizedFeed(vendor_id, "failed", None, failure.findings, [], stats, failure.code)
    del table
    limit = config.error_policy.max_invalid_row_pct
    feed = _outcome(vendor_id, clean, limit, digest, with_csv=with_csv)
    return dataclasses.replace(feed, memory_estimate=memory)


def _outcome(
    vendor_id: str, clean: CleanRows, limit: Decimal, digest: str, *, with_csv: bool
) -> NormalizedFeed:
    accepted = clean.data_rows - clean.rejected - clean.duplicates
    stats = FeedStats(
        clean.data_rows, accepted, clean.rejected, clean.duplicates, len(clean.warnings), digest
    )
    if clean.data_rows and Decimal(clean.rejected) / Decimal(clean.data_rows) > limit:
        detail = f"{clean.rejected} of {clean.data_rows} rows, above {limit}"
        failure = finding("error", vendor_id, "too_many_invalid_rows", detail=detail)
        return NormalizedFeed(
            vendor_id,
            "failed",
            None,
            [failure, *clean.errors],
            clean.warnings,
            stats,
            "too_many_invalid_rows",
        )
    offers = offers_frame(clean.rows, vendor_id)
    csv = offers_csv(offers) if with_csv else None
    return NormalizedFeed(vendor_id, "ok", csv, clean.errors, clean.warnings, stats, offers=offers)


def _fail(
    vendor_id: str, code: str, *, detail: str | None = None, value: str | None = None
) -> FeedFailure:
    return FeedFailure(code, [finding("error", vendor_id, code, detail=detail, value=value)])


def _sku_map(vendor: VendorConfig, sku_map: bytes | None) -> dict[str, str] | None:
    try:
        if sku_map is not None:
            return parse_sku_map(sku_map)
        if vendor.sku_map is None:
            return None
        if vendor.sku_map.type == "inline":
            return check_inline_map(vendor.sku_map.entries or {})
    except SkuMapError as problem:
        raise _fail(
            vendor.vendor_id, problem.code, detail=problem.detail, value=problem.value
        ) from problem
    raise _fail(
        vendor.vendor_id, "sku_map_unavailable", detail="the configured map file is missing"
    )


def _rules(
    config: TenantConfig, vendor: VendorConfig, as_of: datetime, sku_map: bytes | None
) -> CleaningRules:
    parser = vendor.parser
    on_missing = vendor.sku_map.on_missing if vendor.sku_map else "passthrough"
    return CleaningRules(
        vendor_id=vendor.vendor_id,
        currency=config.vendor_currency(vendor),
        decimal_separator=parser.decimal_separator,
        defaults={name: str(text) for name, text in parser.defaults.items()},
        condition_map=dict(parser.condition_map),
        quantity_words=dict(parser.quantity_words),
        sku_map=_sku_map(vendor, sku_map),
        reject_unmapped=on_missing == "reject",
        upper=config.sku.case == "upper",
        zone=ZoneInfo(config.timezone),
        as_of=as_of,
    )


def _read(source: FeedSource, vendor: VendorConfig, limits: FeedLimits, scan: FeedScan) -> RawTable:
    parser = vendor.parser
    try:
        if parser.format != "xlsx" and not is_text_codec(parser.encoding):
            raise FeedRefused(
                "unsupported_encoding",
                repr(parser.encoding[:40]),
                value=parser.encoding,
            )
        if parser.format == "csv":
            return read_csv_table(
                source,
                encoding=parser.encoding,
                delimiter=parser.delimiter,
                header_row=parser.header_row,
                limits=limits,
                scan=scan,
            )
        if parser.format == "xlsx":
            return read_xlsx_table(
                source, sheet=parser.sheet, header_row=parser.header_row, limits=limits
            )
        if parser.format == "json":
            return read_json_table(source, encoding=parser.encoding, limits=limits)
        return read_jsonl_table(source, encoding=parser.encoding, limits=limits)
    except UnreadableFile as problem:
        raise _fail(vendor.vendor_id, "unparseable_file", detail=str(problem)) from problem
    except FeedRefused as refused:
        raise _refusal(vendor, refused) from refused


def _clean(
    table: RawTable,
    columns: dict[str, str],
    rules: CleaningRules,
    vendor: VendorConfig,
    limits: FeedLimits,
) -> tuple[CleanRows, int]:
    """The table cleaned, its memory charged as it goes (from the reader's estimate); the
    final estimate."""
    budget = MemoryBudget(limits, table.memory)
    try:
        return clean_table(table, columns, rules, budget), budget.spent
    except FeedRefused as refused:
        raise _refusal(vendor, refused) from refused


def _refusal(vendor: VendorConfig, refused: FeedRefused) -> FeedFailure:
    column = None if refused.header is None else _canonical(vendor, refused.header)
    item = finding(
        "error",
        vendor.vendor_id,
        refused.code,
        row=refused.row,
        column=column,
        value=refused.value,
        detail=refused.detail,
    )
    return FeedFailure(refused.code, [item])


def _canonical(vendor: VendorConfig, header: str) -> str | None:
    """The canonical field whose ``column_map`` header is ``header`` (trimmed, any case)."""
    wanted = trim(header).lower()
    for name, mapped in vendor.parser.column_map.items():
        if trim(mapped).lower() == wanted:
            return name
    return None


def _check_cells(table: RawTable, vendor: VendorConfig, limits: FeedLimits) -> None:
    """``cell_too_large`` for the first cell (by row, then column) or header longer than
    ``max_cell_bytes`` in UTF-8: one vectorised pass over the cells' lengths (a string view
    knows its length)."""
    most = limits.max_cell_bytes
    for header in table.headers:
        if len(header) * 4 > most and len(header.encode("utf-8")) > most:
            raise _cell_too_large(vendor, None, header, len(header.encode("utf-8")), most)
    frame = table.frame
    names = [name for name in frame.columns if name != ROW]
    if not names or frame.height == 0:
        return
    longest = frame.select(pl.col(name).str.len_bytes().max() for name in names).row(0)
    over = [name for name, size in zip(names, longest, strict=True) if (size or 0) > most]
    if not over:
        return
    sizes = frame.select(ROW, *(pl.col(name).str.len_bytes() for name in over))
    first = sizes.filter(pl.any_horizontal(pl.col(name) > most for name in over)).row(0)
    row = first[0]
    name, size = next((n, s) for n, s in zip(over, first[1:], strict=True) if (s or 0) > most)
    position = int(name[1:])
    header = table.headers[position] if position < len(table.headers) else name
    cell = frame.get_column(name).filter(frame.get_column(ROW) == row).item(0)
    raise _cell_too_large(vendor, row, header, size, most, cell)


def _cell_too_large(
    vendor: VendorConfig,
    row: int | None,
    header: str,
    size: int,
    most: int,
    value: str | None = None,
) -> FeedFailure:
    where = f"the header {header[:100]!r}" if row is None else f"column {header[:100]!r}"
    item = finding(
        "error",
        vendor.vendor_id,
        "cell_too_large",
        row=row,
        column=_canonical(vendor, header),
        value=value,
        detail=f"{where} holds {size} bytes, above the limit of {most}",
    )
    return FeedFailure("cell_too_large", [item])


def _resolve_columns(table: RawTable, vendor: VendorConfig) -> dict[str, str]:
    """canonical field → frame column, matching headers trimmed and case-insensitively."""
    if vendor.parser.format in ("json", "jsonl") and not table.headers:
        return {}  # no object at all: an empty feed (no key can be missing from no rows)
    positions: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        positions.setdefault(trim(header).lower(), index)
    columns: dict[str, str] = {}
    missing: list[Finding] = []
    found = ", ".join(table.headers)
    for name, header in vendor.parser.column_map.items():
        position = positions.get(trim(header).lower())
        if position is None:
            missing.append(
                finding(
                    "error",
                    vendor.vendor_id,
                    "missing_column",
                    column=name,
                    value=found,
                    detail=header,
                )
            )
        elif position in table.nested_columns:
            raise _fail(
                vendor.vendor_id, "unparseable_file", detail=f"{header} holds nested values"
            )
        else:
            columns[name] = column_name(position)
    if missing:
        raise FeedFailure("missing_column", missing)
    return columns
