"""Many edits against one loaded openpyxl workbook (runs in a worker thread, no asyncio).

Each edit decides from the cells as the edits before it left them (a :class:`WorksheetGrid`
per worksheet answers its lookups by key), and is applied whole or not at all: its cell writes
are undone, and the worksheets it created removed, when one of them fails. A value no
workbook can hold (a control character) is a permanent failure of that edit. Every cell is
written as data, never as a formula (``xlsx_cells``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from relay_shared.errors import PermanentError
from relay_sheets.adapters.backend import EditOutcome, SheetEdit
from relay_sheets.adapters.xlsx_cells import CellState, cell_state, holds, restore_cell, write_cell
from relay_sheets.adapters.xlsx_writer import RowXml
from relay_sheets.domain.grid import Cell, Planned, WorksheetGrid, plan_edit
from relay_sheets.domain.layout import WorksheetLayout


class WorkbookSession:
    """An open workbook; :attr:`changed` tells whether any edit changed a cell."""

    def __init__(
        self,
        workbook: Workbook,
        grids: dict[str, WorksheetGrid] | None = None,
        rows: RowXml | None = None,
    ) -> None:
        self.workbook = workbook
        self.changed = False
        #: the XML of the workbook's rows as last saved (``xlsx_writer``)
        self.rows = RowXml() if rows is None else rows
        self._grids: dict[str, WorksheetGrid] = {} if grids is None else grids

    def next_batch(self) -> WorkbookSession:
        """The same workbook, grids and saved rows (as the edits so far left them), for another
        batch: :attr:`changed` starts False again (``workbook_cache``)."""
        return WorkbookSession(self.workbook, self._grids, self.rows)

    def find(self, layout: WorksheetLayout, key: tuple[str, ...]) -> Mapping[str, Cell] | None:
        return self._grid(layout).find(key)

    def keys(self, layout: WorksheetLayout) -> set[tuple[str, ...]]:
        return self._grid(layout).keys()

    def apply(self, edit: SheetEdit) -> EditOutcome:
        """Apply one edit; its exception (a bug or bad data in that message) is returned for
        its caller to raise, and the workbook is left as it was before the edit."""
        try:
            upserts = list(edit(self))
            planned = plan_edit(upserts, self._grid)
            changed = self._write(planned)
        except Exception as exc:  # noqa: BLE001 - handed to the edit's caller, who raises it
            return exc
        for grid, writes in planned:
            grid.commit(writes)
        self.changed = self.changed or changed
        return upserts

    def _write(self, planned: Planned) -> bool:
        """Write the cells; whether any of them changed (the same value again is no change)."""
        undo: list[tuple[Any, CellState]] = []
        created: list[str] = []
        try:
            for grid, writes in planned:
                if not writes:
                    continue
                title = grid.layout.title
                if title not in self.workbook.sheetnames:
                    created.append(title)
                sheet = worksheet(self.workbook, grid.layout)
                for write in writes:
                    cell = sheet.cell(row=write.row, column=write.column)
                    if not holds(cell, write.value):
                        undo.append((cell, cell_state(cell)))
                        write_cell(cell, write.value)
        except IllegalCharacterError as exc:
            self._undo(undo, created)
            raise PermanentError(str(exc), code="unwritable_cell") from exc
        except BaseException:  # any failure, cancellation included: undo, re-raise
            self._undo(undo, created)
            raise
        return bool(undo or created)

    def _undo(self, undo: list[tuple[Any, CellState]], created: list[str]) -> None:
        for cell, state in reversed(undo):
            restore_cell(cell, state)
        for title in created:
            self.workbook.remove(self.workbook[title])

    def _grid(self, layout: WorksheetLayout) -> WorksheetGrid:
        """The worksheet's grid, read from the workbook on first use (and again when the
        layout changes, e.g. a merged feed with other columns)."""
        grid = self._grids.get(layout.title)
        if grid is not None and grid.layout == layout:
            return grid
        if layout.title in self.workbook.sheetnames:
            sheet = self.workbook[layout.title]
            width = len(layout.columns)
            header = [c.value for c in sheet[1][:width]] if sheet.max_row >= 1 else []
            grid = WorksheetGrid(layout, header, data_rows(sheet, width), last_used_row(sheet))
        else:
            grid = WorksheetGrid(layout, [], [], 0)
        self._grids[layout.title] = grid
        return grid


def worksheet(workbook: Workbook, layout: WorksheetLayout) -> Any:
    if layout.title in workbook.sheetnames:
        return workbook[layout.title]
    return workbook.create_sheet(layout.title)


def data_rows(sheet: Any, width: int) -> list[list[Cell]]:
    if sheet.max_row < 2:
        return []
    return [list(row) for row in sheet.iter_rows(min_row=2, max_col=width, values_only=True)]


def last_used_row(sheet: Any) -> int:
    """The last row with any value (openpyxl's ``max_row`` counts styled empty rows too)."""
    for row in range(sheet.max_row, 0, -1):
        if any(cell.value is not None for cell in sheet[row]):
            return row
    return 0
