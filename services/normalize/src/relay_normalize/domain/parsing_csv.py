"""Reading a CSV feed into a :class:`RawTable` with polars (vectorised, all cells as text).

Lines above ``header_row`` are cut off as bytes (not parsed as records). The file is decoded
with the vendor's encoding; a UTF-8 BOM is dropped. Records that are blank take no number;
the first data record is ``header_row + 1``. Rows longer than the header are cut, shorter
ones are padded with empty cells.
"""

from __future__ import annotations

import codecs
import csv
import io

import polars as pl

from relay_normalize.domain.raw_table import (
    ROW,
    RawTable,
    UnreadableFile,
    column_name,
    drop_blank_records,
)
from relay_normalize.domain.text_cells import trim

_BOM = codecs.BOM_UTF8


def to_utf8(raw: bytes, encoding: str) -> bytes:
    """UTF-8 bytes of the feed without BOM; ``UnreadableFile`` when it cannot be decoded."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if codecs.lookup(encoding).name == "utf-8":
        return raw
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeError as exc:
        raise UnreadableFile(f"cannot be decoded as {encoding}") from exc


def _skip_lines(data: bytes, count: int) -> bytes:
    position = 0
    for _ in range(count):
        newline = data.find(b"\n", position)
        if newline < 0:
            return b""
        position = newline + 1
    return data[position:] if position else data


def _read_with_polars(data: bytes, delimiter: str) -> pl.DataFrame:
    return pl.read_csv(
        data,
        has_header=False,
        infer_schema=False,
        separator=delimiter,
        quote_char='"',
        truncate_ragged_lines=True,
        raise_if_empty=False,
        encoding="utf8",
        empty_string_is_null=False,  # an empty cell is "" (no fill afterwards)
    )


def _read_with_python(data: bytes, delimiter: str) -> pl.DataFrame:
    """The tolerant reader: a quote inside an unquoted field (``5" screen``) is a character,
    as spreadsheets read it. Used only when polars refuses the file."""
    try:
        text = io.StringIO(data.decode("utf-8"), newline="")
        records = list(csv.reader(text, delimiter=delimiter, strict=True))
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"invalid CSV: {exc}") from exc
    width = len(records[0]) if records else 0
    columns = {
        f"column_{i}": [record[i] if i < len(record) else None for record in records]
        for i in range(width)
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def read_csv_table(raw: bytes, *, encoding: str, delimiter: str, header_row: int) -> RawTable:
    """The feed's records below the header, numbered by record.

    Polars reads the file; a file it refuses (a stray quote inside an unquoted field) is read
    again with Python's csv module, which takes such quotes literally.
    """
    data = _skip_lines(to_utf8(raw, encoding), header_row - 1)
    if not data or data.isspace():  # (no stripped copy of the whole file)
        return RawTable(pl.DataFrame({ROW: []}, schema={ROW: pl.Int64}), [])
    try:
        frame = _read_with_polars(data, delimiter)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
            raise UnreadableFile(str(exc).splitlines()[0]) from exc
        frame = _read_with_python(data, delimiter)
    except pl.exceptions.PolarsError as exc:
        raise UnreadableFile(str(exc).splitlines()[0] if str(exc) else "invalid CSV") from exc
    del data
    width = frame.width
    frame = frame.rename({old: column_name(i) for i, old in enumerate(frame.columns)})
    headers = [trim(cell) for cell in frame.row(0)] if frame.height else []
    body = drop_blank_records(frame.slice(1), width)
    body = body.with_columns(
        (pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + header_row).alias(ROW)
    )
    return RawTable(body, headers)
