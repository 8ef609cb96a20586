"""Reading a CSV feed into a :class:`RawTable` with polars (vectorised, all cells as text).

Lines above ``header_row`` are skipped as lines (not parsed as records). The file is read as
UTF-8, transcoded first (chunk by chunk) when the vendor's encoding is another one; a UTF-8
BOM is dropped. Records that are blank take no number; the first data record is
``header_row + 1``. Rows longer than the header are cut, shorter ones are padded with empty
cells. A file is read by polars from the file itself, never loaded whole into memory.
"""

from __future__ import annotations

import csv
import io

import polars as pl

from relay_normalize.domain.feed_source import FeedSource, open_binary, utf8_source
from relay_normalize.domain.raw_table import (
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


def _read_with_python(source: FeedSource, delimiter: str, skip_lines: int) -> pl.DataFrame:
    """The tolerant reader: a quote inside an unquoted field (``5" screen``) is a character,
    as spreadsheets read it. Used only when polars refuses the file; streams the records
    (the header's width is the table's)."""
    builder = TableBuilder()
    width = 0
    with open_binary(source) as handle:
        for _ in range(skip_lines):
            handle.readline()
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        try:
            for number, record in enumerate(csv.reader(text, delimiter=delimiter, strict=True)):
                width = width or len(record)
                builder.add(number, record)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UnreadableFile(f"invalid CSV: {exc}") from exc
        finally:
            text.detach()
    return builder.frame(width).drop(ROW)


def read_csv_table(
    source: FeedSource, *, encoding: str, delimiter: str, header_row: int
) -> RawTable:
    """The feed's records below the header, numbered by record.

    Polars reads the file; a file it refuses (a stray quote inside an unquoted field) is read
    again with Python's csv module, which takes such quotes literally.
    """
    with utf8_source(source, encoding) as data:
        try:
            frame = _read_with_polars(data, delimiter, header_row - 1)
        except pl.exceptions.ComputeError as exc:
            if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
                raise UnreadableFile(str(exc).splitlines()[0]) from exc
            frame = _read_with_python(data, delimiter, header_row - 1)
        except pl.exceptions.PolarsError as exc:
            raise UnreadableFile(str(exc).splitlines()[0] if str(exc) else "invalid CSV") from exc
    width = frame.width
    frame = frame.rename({old: column_name(i) for i, old in enumerate(frame.columns)})
    headers = [trim(cell) for cell in frame.row(0)] if frame.height else []
    body = drop_blank_records(frame.slice(1), width)
    body = body.with_columns(
        (pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + header_row).alias(ROW)
    )
    return RawTable(body, headers)
