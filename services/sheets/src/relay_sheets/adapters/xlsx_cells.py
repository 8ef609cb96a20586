"""Writing one openpyxl cell as data, never as a formula (``relay_shared.spreadsheet_cells``).

openpyxl turns any ``str`` that starts with ``=`` into a formula cell (and ``"#N/A"`` and the
like into error cells) when it is assigned. Every cell Relay writes goes through
:func:`write_cell`: a ``str`` becomes a string cell (``data_type "s"``, saved as an inline
string, never an ``<f>`` element), and a formula-like one also gets the style ``quotePrefix``
so that Excel and LibreOffice keep it as text when a user edits the cell. Numbers and blanks
are written as before, without that mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relay_shared.spreadsheet_cells import needs_text_guard
from relay_sheets.domain.grid import Cell

#: openpyxl's data type of a string cell.
STRING = "s"


@dataclass(frozen=True)
class CellState:
    """What :func:`write_cell` may change in a cell, to put it back (:func:`restore_cell`)."""

    value: Any
    data_type: str
    quote_prefix: bool


def write_cell(cell: Any, value: Cell) -> None:
    """Set ``cell`` to ``value`` as data. Raises openpyxl's ``IllegalCharacterError`` for text
    no workbook can hold (the cell's type may already have changed: take its
    :func:`cell_state` first to put it back)."""
    cell.value = value  # validates the text; may infer a formula or an error type
    if isinstance(value, str):
        cell.data_type = STRING
    guarded = needs_text_guard(value)
    if cell.quotePrefix != guarded:
        cell.quotePrefix = guarded


def holds(cell: Any, value: Cell) -> bool:
    """True when ``cell`` already holds ``value`` the way :func:`write_cell` would write it
    (same value and type; a string as a string cell; the text mark as the rule says). A cell
    that holds the same text as a formula (an older workbook, a merchant's edit) does not."""
    if cell.value != value or type(cell.value) is not type(value):
        return False
    if isinstance(value, str) and cell.data_type != STRING:
        return False
    return bool(cell.quotePrefix) == needs_text_guard(value)


def cell_state(cell: Any) -> CellState:
    return CellState(cell.value, cell.data_type, bool(cell.quotePrefix))


def restore_cell(cell: Any, state: CellState) -> None:
    """Put back what :func:`cell_state` saw (an edit that failed is undone whole)."""
    cell.value = state.value
    cell.data_type = state.data_type
    if cell.quotePrefix != state.quote_prefix:
        cell.quotePrefix = state.quote_prefix
