"""The port every sheet backend implements (xlsx now; Google Sheets later)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from relay_sheets.domain.grid import Cell, WorksheetUpsert
from relay_sheets.domain.layout import SpreadsheetRef, WorksheetLayout


class SheetBackend(Protocol):
    """Spreadsheets of worksheets whose first columns are managed (see ``domain.grid``).

    A caller holds :meth:`locked` around a read and the upsert that depends on it, so writes to
    one spreadsheet are serialized.
    """

    def locked(self, ref: SpreadsheetRef) -> AbstractAsyncContextManager[None]: ...

    async def ensure_spreadsheet(
        self, ref: SpreadsheetRef, layouts: Sequence[WorksheetLayout]
    ) -> None:
        """Create the spreadsheet and any missing worksheet (with its header row)."""

    async def read_rows(self, ref: SpreadsheetRef, layout: WorksheetLayout) -> list[list[Cell]]:
        """The data rows' managed cells (row 2 on); none when the worksheet does not exist."""

    async def upsert_rows(self, ref: SpreadsheetRef, upserts: Sequence[WorksheetUpsert]) -> None:
        """Apply every upsert in one write: all of them become visible, or none."""
