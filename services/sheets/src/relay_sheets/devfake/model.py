"""The state behind the fake Google (``fake_google``): Drive files and shared drives, and the
cells of each spreadsheet, with A1 ranges and Google's limits (10,000,000 cells per
spreadsheet; a write past the grid grows it, as the real values API does)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FOLDER = "application/vnd.google-apps.folder"
SHEETS = "application/vnd.google-apps.spreadsheet"
MAX_CELLS = 10_000_000
_A1 = re.compile(r"^([A-Z]*)(\d*)$")

CellValue = str | int | float | bool


class GoogleError(Exception):
    """An error answer: HTTP status, Google's ``status`` and ``reason``."""

    def __init__(self, status: int, state: str, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.state = state
        self.reason = reason or state.lower()
        self.message = message

    def body(self) -> dict[str, Any]:
        errors = [{"message": self.message, "domain": "global", "reason": self.reason}]
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "status": self.state,
                "errors": errors,
            }
        }


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Cell:
    value: CellValue
    formula: str | None = None
    note: str | None = None
    bold: bool = False
    #: ``userEnteredFormat`` as repeatCell requests set it (a merchant's colours, number
    #: formats, fonts); values writes keep it, as at Google
    format: dict[str, Any] = field(default_factory=dict)

    def dressed(self) -> bool:
        """The cell carries something besides its value (a note or a format)."""
        return bool(self.note or self.bold or self.format)

    def kept(self, value: CellValue) -> Cell:
        """A new value in this cell, its note and format kept."""
        return Cell(value, note=self.note, bold=self.bold, format=dict(self.format))


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    frozen_rows: int = 0
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (row, col), 0-based
    merges: list[dict[str, int]] = field(default_factory=list)

    def last_row(self) -> int:
        return max((r + 1 for r, _ in self.cells), default=0)

    def last_col(self) -> int:
        return max((c + 1 for _, c in self.cells), default=0)

    def properties(self) -> dict[str, Any]:
        grid = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    drive_id: str | None
    created: str = field(default_factory=now_text)
    modified: str = field(default_factory=now_text)
    content: bytes = b""
    permissions: list[dict[str, Any]] = field(default_factory=list)
    trashed: bool = False
    #: the service account lost access (every request for the file is a 403)
    unshared: bool = False

    def resource(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": self.parents,
            "createdTime": self.created,
            "modifiedTime": self.modified,
            "trashed": self.trashed,
        }
        if self.drive_id:
            out["driveId"] = self.drive_id
        return out


@dataclass
class Spreadsheet:
    id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_sheet(
        self, title: str, rows: int = 1000, cols: int = 26, sheet_id: int | None = None
    ) -> Sheet:
        if any(s.title == title for s in self.sheets):
            raise GoogleError(
                400,
                "INVALID_ARGUMENT",
                f'Invalid requests[0].addSheet: A sheet with the name "{title}" already exists.',
                "badRequest",
            )
        if sheet_id is None:
            sheet_id = 0 if not self.sheets and title == "Sheet1" else next(self._ids) * 1000 + 7
        if any(s.sheet_id == sheet_id for s in self.sheets):
            raise GoogleError(
                400, "INVALID_ARGUMENT", f"A sheet with id {sheet_id} already exists.", "badRequest"
            )
        sheet = Sheet(sheet_id, title, len(self.sheets), rows, cols)
        self.check_cells(extra=rows * cols)
        self.sheets.append(sheet)
        return sheet

    def cell_count(self) -> int:
        return sum(s.rows * s.cols for s in self.sheets)

    def check_cells(self, extra: int) -> None:
        if self.cell_count() + extra > MAX_CELLS:
            raise GoogleError(
                400,
                "INVALID_ARGUMENT",
                "This action would increase the number of cells in the workbook above the"
                f" limit of {MAX_CELLS} cells.",
                "badRequest",
            )

    def sheet(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise GoogleError(400, "INVALID_ARGUMENT", f"Unable to parse range: {title}", "badRequest")

    def by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise GoogleError(400, "INVALID_ARGUMENT", f"No grid with id: {sheet_id}", "badRequest")

    def metadata(self) -> dict[str, Any]:
        return {
            "spreadsheetId": self.id,
            "properties": {"title": self.title, "locale": "en_US", "timeZone": "Etc/GMT"},
            "sheets": [{"properties": s.properties(), "merges": s.merges} for s in self.sheets],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.id}/edit",
        }


@dataclass(frozen=True)
class GridRange:
    """A parsed A1 range: 0-based, end exclusive; None = to the sheet's end."""

    title: str
    row0: int
    col0: int
    row1: int | None
    col1: int | None


def column_index(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (ord(char) - 64)
    return number - 1


def column_letters(index: int) -> str:
    letters, number = "", index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def parse_range(text: str) -> GridRange:
    title, _, cells = _split_title(text)
    if not cells:
        return GridRange(title, 0, 0, None, None)
    start, _, end = cells.partition(":")
    row0, col0 = _corner(start, text)
    if not end:
        return GridRange(title, row0 or 0, col0 or 0, (row0 or 0) + 1, (col0 or 0) + 1)
    row1, col1 = _corner(end, text)
    return GridRange(
        title,
        row0 or 0,
        col0 or 0,
        None if row1 is None else row1 + 1,
        None if col1 is None else col1 + 1,
    )


def _split_title(text: str) -> tuple[str, str, str]:
    if text.startswith("'"):
        end = text.index("'!", 1) if "'!" in text else len(text) - 1
        return text[1:end].replace("''", "'"), "!", text[end + 2 :]
    title, bang, cells = text.rpartition("!")
    if not bang:
        return text, "", ""
    return title, bang, cells


def _corner(text: str, whole: str) -> tuple[int | None, int | None]:
    match = _A1.match(text.upper())
    if match is None or not (match.group(1) or match.group(2)):
        raise GoogleError(400, "INVALID_ARGUMENT", f"Unable to parse range: {whole}", "badRequest")
    col = column_index(match.group(1)) if match.group(1) else None
    row = int(match.group(2)) - 1 if match.group(2) else None
    return row, col


def read_values(sheet: Sheet, grid: GridRange, render: str) -> list[list[CellValue]]:
    """Rows of the range, trailing empty cells and rows trimmed (as Google answers)."""
    row1 = sheet.last_row() if grid.row1 is None else min(grid.row1, sheet.last_row())
    col1 = sheet.last_col() if grid.col1 is None else min(grid.col1, sheet.last_col())
    rows: list[list[CellValue]] = []
    for r in range(grid.row0, row1):
        row: list[CellValue] = []
        for c in range(grid.col0, col1):
            cell = sheet.cells.get((r, c))
            row.append("" if cell is None else _rendered(cell, render))
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _rendered(cell: Cell, render: str) -> CellValue:
    if render == "FORMULA" and cell.formula is not None:
        return cell.formula
    if render == "FORMATTED_VALUE" and not isinstance(cell.value, str):
        value = cell.value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).upper() if isinstance(value, bool) else str(value)
    return cell.value


def write_values(
    book: Spreadsheet, grid: GridRange, values: list[list[Any]], user_entered: bool
) -> int:
    """Write a block at the range's corner; the grid grows to hold it. Cells written."""
    sheet = book.sheet(grid.title)
    height = len(values)
    width = max((len(row) for row in values), default=0)
    need_rows = grid.row0 + height
    need_cols = grid.col0 + width
    grow = max(need_rows, sheet.rows) * max(need_cols, sheet.cols) - sheet.rows * sheet.cols
    if grow > 0:
        book.check_cells(extra=grow)
        sheet.rows, sheet.cols = max(need_rows, sheet.rows), max(need_cols, sheet.cols)
    written = 0
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            if value is None:
                continue  # null: left as it is
            at = (grid.row0 + r, grid.col0 + c)
            written += 1
            if value == "":
                old = sheet.cells.pop(at, None)
                if old is not None and old.dressed():
                    sheet.cells[at] = old.kept("")
                continue
            old = sheet.cells.get(at)
            cell = Cell(value) if old is None else old.kept(value)
            if user_entered and isinstance(value, str) and value.startswith("="):
                cell.formula, cell.value = value, 0
            sheet.cells[at] = cell
    return written
