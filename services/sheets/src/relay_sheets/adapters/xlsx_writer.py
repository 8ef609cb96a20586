"""Saving a workbook that is saved again and again with few rows changed between saves.

openpyxl rewrites the whole workbook on every save and serializes each cell through
et_xmlfile's pure-Python writer: with every service of ``tests/bench/bench_webhook.py``
running, 69 % of the sheets service's CPU went to ``Workbook.save`` (52 % to writing rows),
and each save of a channel workbook costs more as its Orders grow. A row's XML depends only
on its number, its row dimensions and its cells: their columns, values (of their types: ``1``
and ``1.0`` are written differently), data types and style ids; strings are written inline,
so no shared string table numbers them. So :class:`RowXml` keeps each row's XML from the
save that wrote it, with that key, and a later save writes it again as is while the key is
the same; any other row is written by openpyxl, its output kept for the next save.

A row is always written by openpyxl when one of its cells has a comment or a hyperlink (the
writer also collects those elsewhere in the file) or a value of a type other than the plain
ones of :data:`_PLAIN`; every kept row is dropped when the workbook's date settings change.
The kept XML is that of the same writer for the same row, so the saved file is byte for byte
openpyxl's (``tests/sheets/test_xlsx_writer.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

_PLAIN = (str, int, float, Decimal, bool, datetime, date, time, timedelta, type(None))
RowKey = tuple[object, ...]
KeptRows = dict[int, tuple[RowKey, str]]


class RowXml:
    """Each worksheet's rows' XML as last saved, by row number (with the row's key), for the
    workbook's date settings of that save."""

    def __init__(self) -> None:
        self._sheets: dict[Worksheet, KeptRows] = {}
        self._dates: tuple[object, object] | None = None
        self.reused = 0
        self.written = 0

    def saving(self, workbook: Workbook) -> None:
        """Drop every row kept when the workbook's date settings changed since the last save
        (a date's XML depends on them)."""
        dates = (workbook.iso_dates, workbook.epoch)
        if dates != self._dates:
            self._sheets.clear()
            self._dates = dates

    def of(self, worksheet: Worksheet) -> KeptRows:
        return self._sheets.setdefault(worksheet, {})


def save_workbook(workbook: Workbook, stream: IO[bytes], rows: RowXml) -> None:
    """``workbook.save(stream)``, reusing the XML of rows unchanged since ``rows`` last saw
    them (openpyxl's ``save_workbook``, with this module's worksheet writer)."""
    archive = ZipFile(stream, "w", ZIP_DEFLATED, allowZip64=True)
    workbook.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
    rows.saving(workbook)
    _RowKeepingExcelWriter(workbook, archive, rows).save()


class _RowKeepingExcelWriter(ExcelWriter):  # type: ignore[misc]  # openpyxl is untyped
    def __init__(self, workbook: Workbook, archive: ZipFile, rows: RowXml) -> None:
        super().__init__(workbook, archive)
        self._rows = rows

    def write_worksheet(self, ws: Worksheet) -> None:
        """openpyxl's ``ExcelWriter.write_worksheet`` (3.1) for a workbook that is not
        write-only, with :class:`_RowKeepingWriter`."""
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _RowKeepingWriter(ws, self._rows)
        writer.write()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


class _RowKeepingWriter(WorksheetWriter):  # type: ignore[misc]  # openpyxl is untyped
    def __init__(self, ws: Worksheet, rows: RowXml) -> None:
        super().__init__(ws)
        self._rows = rows
        self._kept = rows.of(ws)

    def write_row(self, xf: Any, row: Iterable[Any], row_idx: int) -> None:
        cells = list(row)
        key = row_key(self.ws, cells, row_idx)
        kept = self._kept.get(row_idx)
        if key is not None and kept is not None and kept[0] == key:
            xf._file(kept[1])
            self._rows.reused += 1
            return
        self._kept.pop(row_idx, None)
        if key is None:  # written by openpyxl every time: nothing to capture
            super().write_row(xf, cells, row_idx)
        else:
            self._kept[row_idx] = (key, self._write_capturing(xf, cells, row_idx))
        self._rows.written += 1

    def _write_capturing(self, xf: Any, cells: list[Any], row_idx: int) -> str:
        """openpyxl's ``write_row``; the XML it wrote."""
        pieces: list[str] = []
        write: Callable[[str], None] = xf._file

        def keep(text: str) -> None:
            pieces.append(text)
            write(text)

        xf._file = keep
        try:
            super().write_row(xf, cells, row_idx)
        finally:
            xf._file = write
        return "".join(pieces)


def row_key(ws: Worksheet, cells: list[Any], row_idx: int) -> RowKey | None:
    """What the XML of row ``row_idx`` (``cells``) is made of; None when it cannot be kept."""
    parts: list[object] = [
        row_idx,
        tuple(ws.row_dimensions[row_idx]) if row_idx in ws.row_dimensions else (),
    ]
    for cell in cells:
        value = cell._value
        if cell._comment is not None or cell.hyperlink is not None or type(value) not in _PLAIN:
            return None
        style = cell.style_id if cell.has_style else None
        parts.append((cell.column, type(value), value, cell.data_type, style))
    return tuple(parts)
