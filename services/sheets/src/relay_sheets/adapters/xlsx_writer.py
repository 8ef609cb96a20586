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

What else a save costs is cut where openpyxl spends it for nothing here: each worksheet is
written straight into its part of the archive (openpyxl writes a temporary file, copies it in
and removes it), rows are put in order by sorting the cells' coordinates alone, a row's key
reads openpyxl's slots instead of its properties, and the parts are deflated at level 1
instead of 6 (zlib's default): the file is about a fifth larger, and a workbook is saved
often and read rarely. ``tests/bench/bench_workbook_save.py`` (a channel workbook of 3,700
rows in four worksheets, saved 100 times with an order's edits between saves): 17-19 ms of
CPU a save, against 39 ms for this module before these four changes and 172-190 ms for
openpyxl's own ``Workbook.save``; level 1 alone took a save from 38-39 to 26-27 ms.
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
    archive = ZipFile(stream, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=1)
    workbook.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
    rows.saving(workbook)
    _RowKeepingExcelWriter(workbook, archive, rows).save()


class _RowKeepingExcelWriter(ExcelWriter):  # type: ignore[misc]  # openpyxl is untyped
    def __init__(self, workbook: Workbook, archive: ZipFile, rows: RowXml) -> None:
        super().__init__(workbook, archive)
        self._rows = rows

    def write_worksheet(self, ws: Worksheet) -> None:
        """openpyxl's ``ExcelWriter.write_worksheet`` (3.1) for a workbook that is not
        write-only, with :class:`_RowKeepingWriter` writing straight into the worksheet's
        part of the archive."""
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        with self._archive.open(ws.path[1:], "w") as out:
            writer = _RowKeepingWriter(ws, self._rows, out)
            writer.write()
        ws._rels = writer._rels
        self.manifest.append(ws)


class _RowKeepingWriter(WorksheetWriter):  # type: ignore[misc]  # openpyxl is untyped
    def __init__(self, ws: Worksheet, rows: RowXml, out: IO[bytes]) -> None:
        super().__init__(ws, out)
        self._rows = rows
        self._kept = rows.of(ws)

    def rows(self) -> list[tuple[int, list[Any]]]:
        """openpyxl's ``WorksheetWriter.rows`` (3.1): every row with a cell or a row
        dimension, in order, each with its cells in column order, sorted by the cells'
        coordinates alone (openpyxl sorts the coordinates paired with their cells)."""
        cells = self.ws._cells
        rows: dict[int, list[Any]] = {}
        for coordinate in sorted(cells):
            found = rows.get(coordinate[0])
            if found is None:
                rows[coordinate[0]] = found = []
            found.append(cells[coordinate])
        for row_idx in self.ws.row_dimensions.keys() - rows.keys():
            rows[row_idx] = []
        return sorted(rows.items())

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
    dimensions = ws.row_dimensions
    parts: list[object] = [row_idx, tuple(dimensions[row_idx]) if row_idx in dimensions else ()]
    append = parts.append
    for cell in cells:  # openpyxl's properties read from their slots: this runs per cell
        value = cell._value
        kind = type(value)
        if cell._comment is not None or cell._hyperlink is not None or kind not in _PLAIN:
            return None
        styled = cell._style is not None and any(cell._style)  # ``cell.has_style``
        append((cell.column, kind, value, cell.data_type, cell.style_id if styled else None))
    return tuple(parts)
