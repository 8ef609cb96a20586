"""Cell writes as Google Sheets value ranges, and Google's cell values as grid cells (pure).

Each worksheet's writes become A1 ranges of contiguous cells (a run of columns in one row;
consecutive rows with the same run joined into one block), all sent in one
``values:batchUpdate``. A blank is written as ``""`` (JSON ``null`` would leave the cell as it
was). Read back with ``UNFORMATTED_VALUE``, an empty cell is ``""``: it becomes None, as an
empty xlsx cell.

A spreadsheet holds at most :data:`MAX_CELLS` cells (rows × columns of every worksheet's
grid); :func:`cells_after` tells how many a write would leave, so the backend refuses it on
purpose, with a clear error, instead of sending a write Google would refuse.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from relay_sheets.domain.grid import Cell, CellWrite

MAX_CELLS = 10_000_000
NEW_SHEET_ROWS = 1000
NEW_SHEET_COLUMNS = 26


def column_letters(column: int) -> str:
    """1-based column number as letters: 1 → A, 27 → AA."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_range(title: str, cells: str = "") -> str:
    quoted = "'" + title.replace("'", "''") + "'"
    return f"{quoted}!{cells}" if cells else quoted


def sheet_id_for(title: str) -> int:
    """A stable worksheet id for a title Relay adds (Google accepts a given ``sheetId``)."""
    return zlib.crc32(title.encode()) & 0x3FFFFFFF or 1


def from_google(value: Any) -> Cell:
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int | float | str):
        return value
    return str(value)


def to_google(value: Cell) -> Any:
    return "" if value is None else value


def grid_rows(values: Sequence[Sequence[Any]]) -> list[list[Cell]]:
    return [[from_google(v) for v in row] for row in values]


@dataclass(frozen=True)
class _Run:
    row: int
    first: int
    values: tuple[Any, ...]

    @property
    def last(self) -> int:
        return self.first + len(self.values) - 1


def value_ranges(title: str, writes: Iterable[CellWrite]) -> list[dict[str, Any]]:
    """``values:batchUpdate`` data for ``writes`` of one worksheet (a later write of the same
    cell wins)."""
    cells: dict[tuple[int, int], Cell] = {}
    for write in writes:
        cells[(write.row, write.column)] = write.value
    runs = _runs(cells)
    data: list[dict[str, Any]] = []
    block: list[_Run] = []
    for run in runs:
        if block and (
            run.row != block[-1].row + 1 or (run.first, run.last) != (block[0].first, block[0].last)
        ):
            data.append(_block(title, block))
            block = []
        block.append(run)
    if block:
        data.append(_block(title, block))
    return data


def _runs(cells: dict[tuple[int, int], Cell]) -> list[_Run]:
    runs: list[_Run] = []
    current: list[Any] = []
    start: tuple[int, int] | None = None
    for row, column in sorted(cells):
        if start is not None and row == start[0] and column == start[1] + len(current):
            current.append(to_google(cells[(row, column)]))
            continue
        if start is not None:
            runs.append(_Run(start[0], start[1], tuple(current)))
        start, current = (row, column), [to_google(cells[(row, column)])]
    if start is not None:
        runs.append(_Run(start[0], start[1], tuple(current)))
    return runs


def _block(title: str, runs: list[_Run]) -> dict[str, Any]:
    first, last = runs[0], runs[-1]
    corner = f"{column_letters(first.first)}{first.row}:{column_letters(first.last)}{last.row}"
    return {"range": sheet_range(title, corner), "values": [list(r.values) for r in runs]}


def cells_after(
    grids: Mapping[str, tuple[int, int]], writes: Mapping[str, Sequence[CellWrite]]
) -> int:
    """Cells of the spreadsheet once ``writes`` (by worksheet) land: each worksheet's grid
    (rows, columns) grows to hold its writes; a new worksheet starts at 1000 × 26."""
    total = 0
    titles = set(grids) | set(writes)
    for title in titles:
        rows, columns = grids.get(title, (NEW_SHEET_ROWS, NEW_SHEET_COLUMNS))
        for write in writes.get(title, ()):
            rows, columns = max(rows, write.row), max(columns, write.column)
        total += rows * columns
    return total
