"""The vendor's columns in a raw table: which column holds each canonical field, and the
bound on a cell's size (checked once the table is read, before any cleaning)."""

from __future__ import annotations

import polars as pl

from relay_normalize.domain.findings import FeedFailure, feed_failure, finding
from relay_normalize.domain.limits import FeedLimits
from relay_normalize.domain.read.raw_table import ROW, RawTable, column_name
from relay_normalize.domain.text_cells import trim
from relay_shared.findings import Finding
from relay_shared.tenant_config import VendorConfig


def mapped_columns(table: RawTable, vendor: VendorConfig) -> dict[str, str]:
    """canonical field → frame column, matching headers trimmed and case-insensitively.

    ``missing_column`` (one finding per missing column, its ``value`` the headers found);
    ``unparseable_file`` when a mapped JSON column holds nested values.
    """
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
                finding(vendor.vendor_id, "missing_column", column=name, value=found, detail=header)
            )
        elif position in table.nested_columns:
            raise feed_failure(
                vendor.vendor_id, "unparseable_file", detail=f"{header} holds nested values"
            )
        else:
            columns[name] = column_name(position)
    if missing:
        raise FeedFailure("missing_column", missing)
    return columns


def canonical_field(vendor: VendorConfig, header: str) -> str | None:
    """The canonical field whose ``column_map`` header is ``header`` (trimmed, any case)."""
    wanted = trim(header).lower()
    for name, mapped in vendor.parser.column_map.items():
        if trim(mapped).lower() == wanted:
            return name
    return None


def check_cells(table: RawTable, vendor: VendorConfig, limits: FeedLimits) -> None:
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
        vendor.vendor_id,
        "cell_too_large",
        row=row,
        column=canonical_field(vendor, header),
        value=value,
        detail=f"{where} holds {size} bytes, above the limit of {most}",
    )
    return FeedFailure("cell_too_large", [item])
