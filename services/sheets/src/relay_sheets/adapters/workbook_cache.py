"""Workbooks kept loaded between saves, so a flush does not parse its workbook again.

Loading a workbook is most of a flush's cost (openpyxl parses every cell: a channel workbook
listing 20,000 skus takes 1-2 s of CPU to load, about 1 s to save), and the sheets service
is the only writer of its folder (``settings``: the folder lock). So after a save (or a
batch that changed nothing) the workbook stays in memory with its grids (``xlsx_session``),
fingerprinted by the file's size and a BLAKE2 digest of its bytes; the next flush of that
file reuses it only when the file on disk still has that fingerprint (reading and hashing
a workbook costs about a millisecond per MB), else loads it again: a file edited, replaced
or removed by anyone else is always read afresh, never overwritten from a stale copy.

A workbook is taken out of the cache for the time of its flush and put back only after the
flush succeeded, so a failed save (whose workbook may hold unsaved cells) is never reused.
The cache holds at most ``max_cells`` cells (a workbook's worksheets' rows × columns, about
0.4 KB each in openpyxl), the least recently used workbooks evicted first; 0 turns it off.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from relay_sheets.adapters.xlsx_session import WorkbookSession


@dataclass(frozen=True)
class _Entry:
    session: WorkbookSession
    fingerprint: tuple[int, bytes]
    cells: int


class WorkbookCache:
    def __init__(self, max_cells: int) -> None:
        if max_cells < 0:
            raise ValueError("max_cells must be ≥ 0")
        self.max_cells = max_cells
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Path, _Entry] = OrderedDict()
        self._cells = 0
        self._lock = threading.Lock()  # flushes of different files run in worker threads

    @property
    def cells(self) -> int:
        return self._cells

    def take(self, path: Path) -> WorkbookSession | None:
        """The workbook of ``path`` as last saved, for a new batch of edits (the caller
        holds the file's lock); None when it is not cached or the file changed since."""
        with self._lock:
            entry = self._entries.pop(path, None)
            if entry is not None:
                self._cells -= entry.cells
        if entry is not None and _fingerprint(path) == entry.fingerprint:
            self.hits += 1
            return entry.session.next_batch()
        self.misses += 1
        return None

    def keep(self, path: Path, session: WorkbookSession) -> None:
        """Remember ``session``'s workbook as the file now on disk (just saved, or read and
        left unchanged); one larger than the whole cache is not kept."""
        cells = sum(ws.max_row * ws.max_column for ws in session.workbook.worksheets)
        if cells > self.max_cells:
            return
        fingerprint = _fingerprint(path)
        if fingerprint is None:
            return
        with self._lock:
            old = self._entries.pop(path, None)
            if old is not None:
                self._cells -= old.cells
            self._entries[path] = _Entry(session, fingerprint, cells)
            self._cells += cells
            while self._cells > self.max_cells:
                _, evicted = self._entries.popitem(last=False)
                self._cells -= evicted.cells


def _fingerprint(path: Path) -> tuple[int, bytes] | None:
    """The file's size and digest; None when there is no such file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return len(data), hashlib.blake2b(data, digest_size=16).digest()
