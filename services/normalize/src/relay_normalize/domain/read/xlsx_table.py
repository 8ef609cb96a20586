"""Reading an XLSX feed: the chosen sheet's cached values (never formulas), as text.

A whole-number float becomes integer text (``100234.0`` → ``100234``), other floats their
shortest repr, dates and times ISO text, booleans ``true``/``false``. Row numbers are sheet
row numbers; empty rows are skipped.

Bounds (:mod:`limits`): a workbook is a zip, so it is checked before it is opened: the sizes
its zip directory declares (Python's zipfile never unpacks more than declared, it fails the
CRC) must add up to at most ``max_decoded_bytes`` (``feed_too_large``: a zip bomb), and the
parts openpyxl parses whole (everything but the worksheets, which are streamed: shared
strings, styles, relations) and the directory itself must fit the memory cap. Rows, columns
and the text read are then bounded row by row as the sheet streams (:class:`TableGuard`).
"""

from __future__ import annotations

import zipfile
from typing import IO, Any

from relay_normalize.domain.limits import (
    DEFAULT_LIMITS,
    MEMORY,
    FeedLimits,
    FeedTooLarge,
    TableGuard,
    check_memory,
)
from relay_normalize.domain.read.feed_source import FeedSource, open_binary
from relay_normalize.domain.read.raw_table import RawTable, TableBuilder, UnreadableFile
from relay_normalize.domain.text_cells import trim
from relay_shared.xlsx_reading import (
    BROKEN_WORKBOOK,
    UnreadableWorkbookError,
    cell_text,
    whole_part_bytes,
    zip_parts,
)


def check_archive(handle: IO[bytes], limits: FeedLimits) -> int:
    """Checks the zip's directory before anything is unpacked; returns the memory the parts
    parsed whole will hold (for the rows' budget). ``UnreadableFile`` when it is no zip."""
    end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]  # the directory's end record
    if end is None:
        raise UnreadableFile("not a readable XLSX workbook")
    entries = int(end[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]
    check_memory(
        MEMORY.fixed + entries * MEMORY.per_zip_entry,
        limits,
        f"a zip directory of {entries} entries",
    )
    handle.seek(0)
    try:
        parts = zip_parts(handle)
    except UnreadableWorkbookError as exc:
        raise UnreadableFile(str(exc)) from exc
    unpacked = sum(size for _, size in parts)
    if unpacked > limits.max_decoded_bytes:
        raise FeedTooLarge(
            "feed_too_large",
            f"the workbook unpacks to {unpacked} bytes, above the limit of"
            f" {limits.max_decoded_bytes}",
        )
    whole = whole_part_bytes(parts)
    held = entries * MEMORY.per_zip_entry + whole * MEMORY.per_xml_byte
    check_memory(MEMORY.fixed + held, limits, f"opening a workbook with {whole} bytes of parts")
    return held


def read_xlsx_table(
    source: FeedSource,
    *,
    sheet: str | int | None,
    header_row: int,
    limits: FeedLimits = DEFAULT_LIMITS,
) -> RawTable:
    """The sheet's rows below ``header_row``, streamed row by row (openpyxl read-only).

    openpyxl gets an open file, never a path: given a path it refuses any name that does not
    end in ``.xlsx`` (a staged feed has none). An ``OSError`` opening the file propagates.
    """
    from openpyxl import load_workbook  # imported here: it costs 0.25 s at start-up
    from openpyxl.utils.exceptions import InvalidFileException

    with open_binary(source) as handle:
        held = check_archive(handle, limits)
        try:
            book = load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, OSError, *BROKEN_WORKBOOK) as exc:
            raise UnreadableFile("not a readable XLSX workbook") from exc
        try:
            guard = TableGuard(limits)
            guard.reserve(held)
            return _rows(_worksheet(book, sheet), header_row, guard)
        finally:
            book.close()


def _rows(worksheet: Any, header_row: int, guard: TableGuard) -> RawTable:
    headers: list[str] = []
    builder = TableBuilder(guard)
    try:
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if number == header_row:
                guard.check_width(len(values), number)
                headers = [trim(cell_text(value)) for value in values]
            elif number > header_row:
                cells = [cell_text(value) for value in values]
                builder.add(number, cells)
                guard.add_decoded(sum(len(text) for text in cells if text))
    except BROKEN_WORKBOOK as exc:
        raise UnreadableFile(f"the sheet cannot be read: {type(exc).__name__}") from exc
    return builder.table(headers)


def _worksheet(book: Any, sheet: str | int | None) -> Any:
    """The configured sheet: the first when none is named, by position or by name."""
    if not book.worksheets:
        raise UnreadableFile("the workbook has no sheet")
    if sheet is None:
        return book.worksheets[0]
    if isinstance(sheet, int):
        if sheet >= len(book.worksheets):
            raise UnreadableFile(f"the workbook has no sheet {sheet}")
        return book.worksheets[sheet]
    if sheet not in book.sheetnames:
        raise UnreadableFile(f"the workbook has no sheet {sheet!r}")
    return book[sheet]
