"""Reading a CSV feed into a :class:`RawTable` with polars (vectorised, all cells as text).

Lines above ``header_row`` are skipped as lines (not parsed as records). The file is read as
UTF-8, transcoded first (chunk by chunk) when the vendor's encoding is another one; a UTF-8
BOM is dropped. Records that are blank take no number; the first data record is
``header_row + 1``. Rows longer than the header are cut, shorter ones are padded with empty
cells. A file is read by polars from the file itself, never loaded whole into memory.

Bounds (:mod:`limits`): before polars parses anything, the decoded size, the header's width
(counted on its line) and the memory estimate of ``lines × width`` cells; once read, the
rows and the width. The tolerant reader bounds the same as it streams.
"""

from __future__ import annotations

import csv
import io

import polars as pl

from relay_normalize.domain.limits import (
    DEFAULT_LIMITS,
    FeedLimits,
    TableGuard,
    check_memory,
    table_memory,
    too_many_columns,
    too_many_rows,
)
from relay_normalize.domain.read.feed_source import (
    FeedScan,
    FeedSource,
    header_fields,
    open_binary,
    scan_feed,
    utf8_source,
)
from relay_normalize.domain.read.raw_table import (
    ROW,
    RawTable,
    TableBuilder,
    UnreadableFile,
    column_name,
    drop_blank_records,
)
from relay_normalize.domain.text_cells import trim


def _read_with_polars(source: FeedSource, delimiter: str, skip_lines: int) -> pl.DataFrame:
    return pl.read_csv(
        source,
        has_header=False,
        infer_schema=False,
        separator=delimiter,
        quote_char='"',
        skip_lines=skip_lines,
        truncate_ragged_lines=True,
        raise_if_empty=False,
        encoding="utf8",
        empty_string_is_null=False,  # an empty cell is "" (no fill afterwards)
    )


def _read_with_python(
    source: FeedSource, delimiter: str, skip_lines: int, guard: TableGuard
) -> pl.DataFrame:
    """The tolerant reader: a quote inside an unquoted field (``5" screen``) is a character,
    as spreadsheets read it. Used only when polars refuses the file; streams the records
    (the header's width is the table's: longer records are cut as they come)."""
    builder = TableBuilder(guard)
    width = 0
    with open_binary(source) as handle:
        for _ in range(skip_lines):
            handle.readline()
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        try:
            records = csv.reader(text, delimiter=delimiter, strict=True)
            for number, record in enumerate(records, start=skip_lines + 1):  # 1st: the header
                width = width or len(record)
                builder.add(number, record if len(record) <= width else record[:width])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UnreadableFile(f"invalid CSV: {exc}") from exc
        finally:
            text.detach()
    return builder.frame(width).drop(ROW)


def read_csv_table(
    source: FeedSource,
    *,
    encoding: str,
    delimiter: str,
    header_row: int,
    limits: FeedLimits = DEFAULT_LIMITS,
    scan: FeedScan | None = None,
) -> RawTable:
    """The feed's records below the header, numbered by record.

    Polars reads the file; a file it refuses (a stray quote inside an unquoted field) is read
    again with Python's csv module, which takes such quotes literally. ``scan`` is the feed's
    :func:`scan_feed` when the caller has it. :class:`FeedTooLarge` past a bound.
    """
    skip = header_row - 1
    with utf8_source(source, encoding, limits, scan or scan_feed(source)) as utf8:
        data = utf8.data
        width = header_fields(data, delimiter, skip, limits.max_columns)
        if width > limits.max_columns:
            raise too_many_columns(width, limits, None)
        estimate = table_memory(utf8.newlines + 1, width, utf8.size)
        check_memory(estimate, limits, f"reading {utf8.newlines + 1} lines of {width} columns")
        try:
            frame = _read_with_polars(data, delimiter, skip)
        except pl.exceptions.ComputeError as exc:
            if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
                raise UnreadableFile(str(exc).splitlines()[0]) from exc
            guard = TableGuard(limits, utf8.size, header_rows=1)
            frame = _read_with_python(data, delimiter, skip, guard)
        except pl.exceptions.PolarsError as exc:
            raise UnreadableFile(str(exc).splitlines()[0] if str(exc) else "invalid CSV") from exc
    width = frame.width
    if width > limits.max_columns:
        raise too_many_columns(width, limits, None)
    frame = frame.rename({old: column_name(i) for i, old in enumerate(frame.columns)})
    headers = [trim(cell) for cell in frame.row(0)] if frame.height else []
    body = drop_blank_records(frame.slice(1), width)
    if body.height > limits.max_rows:
        raise too_many_rows(limits, header_row + limits.max_rows + 1)
    body = body.with_columns(
        (pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + header_row).alias(ROW)
    )
    return RawTable(body, headers, memory=estimate)
