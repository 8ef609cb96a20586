"""Reading an XLSX feed: the chosen sheet's cached values (never formulas), as text.

A whole-number float becomes integer text (``100234.0`` → ``100234``), other floats their
shortest repr, dates and times ISO text, booleans ``true``/``false``. Row numbers are sheet
row numbers; empty rows are skipped.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time, timedelta
from typing import Any

from relay_normalize.domain.feed_source import FeedSource, open_binary
from relay_normalize.domain.raw_table import RawTable, TableBuilder, UnreadableFile
from relay_normalize.domain.text_cells import trim


def cell_text(value: Any) -> str | None:
    """The text of one cached cell value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def read_xlsx_table(source: FeedSource, *, sheet: str | int | None, header_row: int) -> RawTable:
    """The sheet's rows below ``header_row``, streamed row by row (openpyxl read-only).

    openpyxl gets an open file, never a path: given a path it refuses any name that does not
    end in ``.xlsx`` (a staged feed has none). An ``OSError`` opening the file propagates.
    """
    from openpyxl import load_workbook  # imported here: it costs 0.25 s at start-up
    from openpyxl.utils.exceptions import InvalidFileException

    with open_binary(source) as handle:
        try:
            book = load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise UnreadableFile("not a readable XLSX workbook") from exc
        try:
            headers: list[str] = []
            builder = TableBuilder()
            rows = _worksheet(book, sheet).iter_rows(values_only=True)
            for number, values in enumerate(rows, start=1):
                if number == header_row:
                    headers = [trim(cell_text(value)) for value in values]
                elif number > header_row:
                    builder.add(number, [cell_text(value) for value in values])
        finally:
            book.close()
    return builder.table(headers)


def _worksheet(book: Any, sheet: str | int | None) -> Any:
    """The configured sheet: the first when none is named, by position or by name."""
    if sheet is None:
        return book.worksheets[0]
    if isinstance(sheet, int):
        if sheet >= len(book.worksheets):
            raise UnreadableFile(f"the workbook has no sheet {sheet}")
        return book.worksheets[sheet]
    if sheet not in book.sheetnames:
        raise UnreadableFile(f"the workbook has no sheet {sheet!r}")
    return book[sheet]
