"""Many edits against one read of a Google spreadsheet (no I/O here: the backend reads before
and writes after).

The backend reads every worksheet of the spreadsheet in one ``values:batchGet`` (whole rows,
so a row the merchant added, even with text only right of the managed columns, counts as used
and is never overwritten by an append). Each edit decides from the cells as the edits before
it left them (a :class:`WorksheetGrid` per worksheet) and is kept whole or not at all: its
writes join the pending ones only when it planned without error. The pending writes are then
sent as one ``values:batchUpdate`` (plus one ``spreadsheets:batchUpdate`` when a worksheet
must be added).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from relay_sheets.adapters.backend import EditOutcome, SheetEdit
from relay_sheets.domain.google_ranges import grid_rows
from relay_sheets.domain.grid import Cell, CellWrite, WorksheetGrid, plan_edit
from relay_sheets.domain.layout import WorksheetLayout


class GoogleSession:
    """The read worksheets (title → rows of values) and the writes edits planned."""

    def __init__(self, worksheets: Mapping[str, Sequence[Sequence[Any]]]) -> None:
        self._rows = {title: grid_rows(rows) for title, rows in worksheets.items()}
        self._grids: dict[str, WorksheetGrid] = {}
        self.pending: dict[str, list[CellWrite]] = {}
        self.layouts: dict[str, WorksheetLayout] = {}

    @property
    def existing(self) -> set[str]:
        return set(self._rows)

    @property
    def missing(self) -> list[WorksheetLayout]:
        """Worksheets with writes that the spreadsheet does not have yet."""
        return [self.layouts[t] for t in self.pending if t not in self._rows and self.pending[t]]

    def is_empty(self, title: str) -> bool:
        return not any(any(v is not None for v in row) for row in self._rows.get(title, []))

    def rows_of(self, layout: WorksheetLayout) -> list[list[Cell]]:
        """The data rows' managed cells, as read."""
        width = len(layout.columns)
        rows = self._rows.get(layout.title, [])[1:]
        return [[*row[:width], *([None] * (width - len(row)))] for row in rows]

    def find(self, layout: WorksheetLayout, key: tuple[str, ...]) -> Mapping[str, Cell] | None:
        return self._grid(layout).find(key)

    def keys(self, layout: WorksheetLayout) -> set[tuple[str, ...]]:
        return self._grid(layout).keys()

    def apply(self, edit: SheetEdit) -> EditOutcome:
        try:
            upserts = list(edit(self))
            planned = plan_edit(upserts, self._grid)
        except Exception as exc:  # noqa: BLE001 - handed to the edit's caller, who raises it
            return exc
        for grid, writes in planned:
            grid.commit(writes)
            if writes:
                self.pending.setdefault(grid.layout.title, []).extend(writes)
                self.layouts[grid.layout.title] = grid.layout
        return upserts

    def _grid(self, layout: WorksheetLayout) -> WorksheetGrid:
        grid = self._grids.get(layout.title)
        if grid is not None and grid.layout == layout:
            return grid
        rows = self._rows.get(layout.title, [])
        width = len(layout.columns)
        header = rows[0][:width] if rows else []
        data = [row[:width] for row in rows[1:]]
        grid = WorksheetGrid(layout, header, data, len(rows))
        self._grids[layout.title] = grid
        return grid
