"""The ``google`` backend: the same workbooks as ``xlsx``, as Google spreadsheets in the
tenant's shared drive (see ``google_drive`` for the folders).

One flush of a spreadsheet (every edit the coalescing writer gathered) costs at most three
requests whatever the number of edits: one ``values:batchGet`` of every worksheet (whole rows:
the merchant's columns and rows are seen, never written), one ``spreadsheets:batchUpdate``
only when a worksheet must be added (with its bold, frozen header row; the empty "Sheet1" a
new spreadsheet comes with is removed), and one ``values:batchUpdate`` of every changed cell
(``RAW``). The worksheet list (ids, grid sizes) is read once per spreadsheet and kept; a read
that finds it stale (the merchant renamed a tab) drops it and fails transiently.

A write that would take the spreadsheet past Google's 10,000,000 cells is not sent: it fails
permanently (``google_cell_limit``), recorded with its reason like a deleted file.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from relay_shared.errors import PermanentError, TransientError
from relay_sheets.adapters.backend import EditBatch, SheetEdit, UpsertingBackend
from relay_sheets.adapters.google_api import GoogleApi, GoogleRequestError
from relay_sheets.adapters.google_drive import GoogleDrive
from relay_sheets.adapters.google_session import GoogleSession
from relay_sheets.domain.google_ranges import (
    MAX_CELLS,
    NEW_SHEET_ROWS,
    cells_after,
    sheet_id_for,
    sheet_range,
    value_ranges,
)
from relay_sheets.domain.grid import Cell, WorksheetUpsert
from relay_sheets.domain.layout import SpreadsheetRef, WorksheetLayout

DEFAULT_SHEET = "Sheet1"


@dataclass
class _Worksheet:
    sheet_id: int
    rows: int
    columns: int


class GoogleBackend(UpsertingBackend):
    def __init__(self, api: GoogleApi, drive: GoogleDrive) -> None:
        self.api = api
        self.drive = drive
        self._locks: dict[SpreadsheetRef, asyncio.Lock] = {}
        self._worksheets: dict[str, dict[str, _Worksheet]] = {}

    @asynccontextmanager
    async def locked(self, ref: SpreadsheetRef) -> AsyncIterator[None]:
        async with self._locks.setdefault(ref, asyncio.Lock()):
            yield

    async def read_rows(self, ref: SpreadsheetRef, layout: WorksheetLayout) -> list[list[Cell]]:
        rows: list[list[Cell]] = []

        def capture(view: Any) -> list[WorksheetUpsert]:
            session: GoogleSession = view
            rows.extend(session.rows_of(layout))
            return []

        await self.apply_edits(ref, [capture])
        return rows

    async def upsert_rows(self, ref: SpreadsheetRef, upserts: Sequence[WorksheetUpsert]) -> None:
        outcome = (await self.apply_edits(ref, [lambda _view: upserts])).outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome

    async def apply_edits(self, ref: SpreadsheetRef, edits: Sequence[SheetEdit]) -> EditBatch:
        async with self.locked(ref):
            book = await self.drive.spreadsheet(ref)
            return await self._flush(book.file_id, edits)

    async def _flush(self, book_id: str, edits: Sequence[SheetEdit]) -> EditBatch:
        worksheets = await self._worksheet_list(book_id)
        session = GoogleSession(await self._read(book_id, list(worksheets)))
        outcomes = [session.apply(edit) for edit in edits]
        if not session.pending:
            return EditBatch(outcomes, saved=False)
        grids = {t: (w.rows, w.columns) for t, w in worksheets.items()}
        cells = cells_after(grids, session.pending)
        if cells > MAX_CELLS:
            raise PermanentError(
                f"this write would take the spreadsheet to {cells:,} cells, past Google's limit"
                f" of {MAX_CELLS:,}: nothing was written",
                code="google_cell_limit",
                cells=cells,
            )
        missing = session.missing
        if missing:
            remove_default = session.is_empty(DEFAULT_SHEET) and DEFAULT_SHEET in worksheets
            await self._add_worksheets(book_id, worksheets, missing, remove_default=remove_default)
        data = [r for title, writes in session.pending.items() for r in value_ranges(title, writes)]
        await self.api.write_values(book_id, data)
        for title, writes in session.pending.items():
            sheet = worksheets.get(title)
            if sheet is not None:
                sheet.rows = max([sheet.rows, *(w.row for w in writes)])
                sheet.columns = max([sheet.columns, *(w.column for w in writes)])
        return EditBatch(outcomes, saved=True)

    async def _worksheet_list(self, book_id: str) -> dict[str, _Worksheet]:
        known = self._worksheets.get(book_id)
        if known is None:
            metadata = await self.api.metadata(book_id)
            known = {}
            for sheet in metadata.get("sheets", []):
                props = sheet["properties"]
                grid = props.get("gridProperties", {})
                known[props["title"]] = _Worksheet(
                    int(props["sheetId"]),
                    int(grid.get("rowCount", 0)),
                    int(grid.get("columnCount", 0)),
                )
            self._worksheets[book_id] = known
        return known

    async def _read(self, book_id: str, titles: list[str]) -> dict[str, list[list[Any]]]:
        if not titles:
            return {}
        try:
            values = await self.api.batch_get(
                book_id, [sheet_range(t) for t in titles], "UNFORMATTED_VALUE"
            )
        except GoogleRequestError as exc:
            self._worksheets.pop(book_id, None)
            raise TransientError(
                f"the worksheets of {book_id} changed: {exc}", code="worksheets_changed"
            ) from exc
        return dict(zip(titles, values, strict=True))

    async def _add_worksheets(
        self,
        book_id: str,
        worksheets: dict[str, _Worksheet],
        layouts: list[WorksheetLayout],
        *,
        remove_default: bool,
    ) -> None:
        """Add ``layouts``' worksheets (and remove the empty default one a new spreadsheet
        has, when ``remove_default``) in one ``spreadsheets:batchUpdate``."""
        requests: list[dict[str, Any]] = []
        for layout in layouts:
            sheet_id = sheet_id_for(layout.title)
            columns = max(26, len(layout.columns))
            grid = {"rowCount": NEW_SHEET_ROWS, "columnCount": columns, "frozenRowCount": 1}
            requests.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_id,
                            "title": layout.title,
                            "gridProperties": grid,
                        }
                    }
                }
            )
            requests.append(_bold_header(sheet_id, len(layout.columns)))
            worksheets[layout.title] = _Worksheet(sheet_id, NEW_SHEET_ROWS, columns)
        default = worksheets.get(DEFAULT_SHEET) if remove_default else None
        if default is not None:
            requests.append({"deleteSheet": {"sheetId": default.sheet_id}})
        try:
            await self.api.batch_update(book_id, requests)
        except BaseException:
            self._worksheets.pop(book_id, None)
            raise
        if default is not None:
            del worksheets[DEFAULT_SHEET]

    def forget(self, book_id: str) -> None:
        self._worksheets.pop(book_id, None)


def _bold_header(sheet_id: int, width: int) -> dict[str, Any]:
    return {
        "repeatCell": {
            "range": {
                "sheetId": sheet_id,
                "startRowIndex": 0,
                "endRowIndex": 1,
                "startColumnIndex": 0,
                "endColumnIndex": width,
            },
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
            "fields": "userEnteredFormat.textFormat.bold",
        }
    }
