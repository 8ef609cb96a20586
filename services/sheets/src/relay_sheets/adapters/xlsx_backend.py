"""The ``xlsx`` backend: real workbooks under ``<root>/<tenant>/[<channel>/]<title>.xlsx``.

A workbook is rewritten whole and atomically (a temporary file in the same folder, fsync,
``os.replace``), so a reader or a crash never sees half a workbook. Writes to one file are
serialized by an asyncio lock per file (this process) and an ``flock`` on a lock file beside
it (other processes); openpyxl runs in a worker thread. :meth:`XlsxBackend.apply_edits` serves
many edits with one load and one save (see ``xlsx_session``); a workbook nothing changed is not
rewritten. A workbook stays loaded between flushes (``workbook_cache``: reused only while the
file on disk is the one last saved), so a flush parses it only the first time, and its save
writes again the XML of the rows no edit changed since the last one (``xlsx_writer``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from openpyxl import Workbook, load_workbook

from relay_sheets.adapters.backend import EditBatch, SheetEdit, UpsertingBackend
from relay_sheets.adapters.workbook_cache import WorkbookCache
from relay_sheets.adapters.xlsx_session import WorkbookSession, data_rows
from relay_sheets.adapters.xlsx_writer import RowXml, save_workbook
from relay_sheets.domain.grid import Cell, WorksheetUpsert
from relay_sheets.domain.layout import SpreadsheetRef, UnsafeNameError, WorksheetLayout


class XlsxBackend(UpsertingBackend):
    #: Cells of workbooks kept loaded between flushes (``workbook_cache``), about 0.4 KB each.
    DEFAULT_CACHE_CELLS = 1_000_000

    def __init__(self, root: Path, *, cache_cells: int = DEFAULT_CACHE_CELLS) -> None:
        self.root = root
        self.cache = WorkbookCache(cache_cells)
        self._locks: dict[Path, asyncio.Lock] = {}

    def path_for(self, ref: SpreadsheetRef) -> Path:
        """``<root>/<tenant>/[<channel>/]<title>.xlsx``: made only of the ref's checked ids
        (see ``SpreadsheetRef``), and checked again to lie inside ``root``."""
        path = self.root.joinpath(*ref.folder, f"{ref.title}.xlsx")
        root = os.path.normpath(self.root)
        if os.path.dirname(os.path.normpath(path)) != os.path.join(root, *ref.folder):
            raise UnsafeNameError("spreadsheet", str(path), "a file inside the workbooks root")
        return path

    @asynccontextmanager
    async def locked(self, ref: SpreadsheetRef) -> AsyncIterator[None]:
        lock = self._locks.setdefault(self.path_for(ref), asyncio.Lock())
        async with lock:
            yield

    async def read_rows(self, ref: SpreadsheetRef, layout: WorksheetLayout) -> list[list[Cell]]:
        return await asyncio.to_thread(_read_rows, self.path_for(ref), layout)

    async def upsert_rows(self, ref: SpreadsheetRef, upserts: Sequence[WorksheetUpsert]) -> None:
        await asyncio.to_thread(_upsert, self.path_for(ref), list(upserts), self.cache)

    async def apply_edits(self, ref: SpreadsheetRef, edits: Sequence[SheetEdit]) -> EditBatch:
        async with self.locked(ref):
            path = self.path_for(ref)
            return await asyncio.to_thread(_apply_edits, path, list(edits), self.cache)


def _read_rows(path: Path, layout: WorksheetLayout) -> list[list[Cell]]:
    if not path.exists():
        return []
    workbook = load_workbook(path)
    if layout.title not in workbook.sheetnames:
        return []
    return data_rows(workbook[layout.title], len(layout.columns))


def _upsert(path: Path, upserts: list[WorksheetUpsert], cache: WorkbookCache) -> None:
    outcome = _apply_edits(path, [lambda _view: upserts], cache).outcomes[0]
    if isinstance(outcome, Exception):
        raise outcome


def _apply_edits(path: Path, edits: list[SheetEdit], cache: WorkbookCache) -> EditBatch:
    """Load (or take from ``cache``), apply, save if changed; the workbook goes back to the
    cache only when all of that succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(path):
        session = cache.take(path) or _open(path)
        outcomes = [session.apply(edit) for edit in edits]
        if session.changed:
            _save_atomically(session.workbook, path, session.rows)
        cache.keep(path, session)
        return EditBatch(outcomes, saved=session.changed)


def _open(path: Path) -> WorkbookSession:
    return WorkbookSession(load_workbook(path) if path.exists() else _new_workbook())


def _new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def _save_atomically(workbook: Workbook, path: Path, rows: RowXml) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            save_workbook(workbook, stream, rows)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    except BaseException:  # any exit, cancellation included: clean up, re-raise
        Path(temporary).unlink(missing_ok=True)
        raise


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (the new name survives a power cut)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path.with_name(f".{path.name}.lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
