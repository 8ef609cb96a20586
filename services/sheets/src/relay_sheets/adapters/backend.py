"""The port every sheet backend implements (``xlsx_backend`` and ``google_backend``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from relay_sheets.domain.grid import Cell, WorksheetUpsert
from relay_sheets.domain.layout import SpreadsheetRef, WorksheetLayout


class WorkbookView(Protocol):
    """A spreadsheet as an edit sees it: with every earlier edit of its batch applied."""

    def find(self, layout: WorksheetLayout, key: tuple[str, ...]) -> Mapping[str, Cell] | None:
        """The managed cells of the first row with ``key``; None when there is none (or no
        such worksheet)."""

    def keys(self, layout: WorksheetLayout) -> set[tuple[str, ...]]:
        """Every key the worksheet's rows have (none when there is no such worksheet)."""


#: One message's change to a spreadsheet: decides its upserts from the current cells (pure,
#: no I/O). Upserts of a layout with no changes only make sure its worksheet exists.
SheetEdit = Callable[[WorkbookView], Sequence[WorksheetUpsert]]

#: What an edit came to: the upserts it applied, or the exception that stopped it (then
#: nothing of it was applied).
EditOutcome = Sequence[WorksheetUpsert] | Exception


@dataclass(frozen=True)
class EditBatch:
    """The outcome of each edit, in order, and whether the spreadsheet was written."""

    outcomes: list[EditOutcome]
    saved: bool


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

    async def apply_edits(self, ref: SpreadsheetRef, edits: Sequence[SheetEdit]) -> EditBatch:
        """Read the spreadsheet once, apply the edits in order (each one whole or not at all;
        one that fails leaves the others), then write it once if anything changed. Raises
        (and writes nothing) when the spreadsheet cannot be read or written."""


class UpsertingBackend(ABC):
    """What both backends share: a spreadsheet is ensured by an upsert of each layout with no
    changes (which creates the spreadsheet and any missing worksheet with its header row)."""

    @abstractmethod
    async def upsert_rows(self, ref: SpreadsheetRef, upserts: Sequence[WorksheetUpsert]) -> None:
        """Apply every upsert in one write: all of them become visible, or none."""

    async def ensure_spreadsheet(
        self, ref: SpreadsheetRef, layouts: Sequence[WorksheetLayout]
    ) -> None:
        await self.upsert_rows(ref, [WorksheetUpsert(layout, []) for layout in layouts])
