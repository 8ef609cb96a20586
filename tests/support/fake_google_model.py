"""Moved to :mod:`relay_sheets.devfake.model`."""

from relay_sheets.devfake.model import (
    FOLDER,
    MAX_CELLS,
    SHEETS,
    Cell,
    DriveFile,
    GoogleError,
    Sheet,
    Spreadsheet,
)

__all__ = [
    "FOLDER",
    "MAX_CELLS",
    "SHEETS",
    "Cell",
    "DriveFile",
    "GoogleError",
    "Sheet",
    "Spreadsheet",
]
