"""The ``xlsx`` backend: real workbooks under ``<root>/<tenant>/[<channel>/]<title>.xlsx``.

A workbook is rewritten whole and atomically (a temporary file in the same folder, fsync,
``os.replace``), so a reader or a crash never sees half a workbook. Writes to one file are
serialized by an asyncio lock per file (this process) and an ``flock`` on a lock file beside
it (other processes); openpyxl runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from relay_sheets.domain.grid import Cell, WorksheetUpsert, plan_writes
from relay_sheets.domain.layout import SpreadsheetRef, WorksheetLayout


class XlsxBackend:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[Path, asyncio.Lock] = {}

    def path_for(self, ref: SpreadsheetRef) -> Path:
        return self.root.joinpath(*ref.folder, f"{ref.title}.xlsx")

    @asynccontextmanager
    async def locked(self, ref: SpreadsheetRef) -> AsyncIterator[None]:
        lock = self._locks.setdefault(self.path_for(ref), asyncio.Lock())
        async with lock:
            yield

    async def ensure_spreadsheet(
        self, ref: SpreadsheetRef, layouts: Sequence[WorksheetLayout]
    ) -> None:
        await self.upsert_rows(ref, [WorksheetUpsert(layout, []) for layout in layouts])

    async def read_rows(self, ref: SpreadsheetRef, layout: WorksheetLayout) -> list[list[Cell]]:
        return await asyncio.to_thread(_read_rows, self.path_for(ref), layout)

    async def upsert_rows(self, ref: SpreadsheetRef, upserts: Sequence[WorksheetUpsert]) -> None:
        await asyncio.to_thread(_upsert, self.path_for(ref), list(upserts))


def _read_rows(path: Path, layout: WorksheetLayout) -> list[list[Cell]]:
    if not path.exists():
        return []
    workbook = load_workbook(path)
    if layout.title not in workbook.sheetnames:
        return []
    return _data_rows(workbook[layout.title], len(layout.columns))


def _data_rows(sheet: Any, width: int) -> list[list[Cell]]:
    if sheet.max_row < 2:
        return []
    return [list(row) for row in sheet.iter_rows(min_row=2, max_col=width, values_only=True)]


def _upsert(path: Path, upserts: list[WorksheetUpsert]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(path):
        workbook = load_workbook(path) if path.exists() else _new_workbook()
        for upsert in upserts:
            sheet = _worksheet(workbook, upsert.layout)
            width = len(upsert.layout.columns)
            header = [c.value for c in sheet[1][:width]] if sheet.max_row >= 1 else []
            rows = _data_rows(sheet, width)
            last_row = _last_used_row(sheet)
            for write in plan_writes(upsert.layout, header, rows, last_row, upsert.changes):
                sheet.cell(row=write.row, column=write.column, value=write.value)
        _save_atomically(workbook, path)


def _new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def _worksheet(workbook: Workbook, layout: WorksheetLayout) -> Any:
    if layout.title in workbook.sheetnames:
        return workbook[layout.title]
    return workbook.create_sheet(layout.title)


def _last_used_row(sheet: Any) -> int:
    """The last row with any value (openpyxl's ``max_row`` counts styled empty rows too)."""
    for row in range(sheet.max_row, 0, -1):
        if any(cell.value is not None for cell in sheet[row]):
            return row
    return 0


def _save_atomically(workbook: Workbook, path: Path) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            workbook.save(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path.with_name(f".{path.name}.lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
