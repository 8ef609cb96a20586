"""The merged inventory as sheet rows.

Read with the shared reader (:mod:`relay_shared.merged_feed`), every column; each cell is
shown as a spreadsheet holds it: quantities and lead times as whole numbers, money as numbers
(floats), everything else as text, an empty cell blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from relay_shared.merged_feed import MergedCell
from relay_sheets.domain.grid import Cell


def sheet_cell(value: MergedCell) -> Cell:
    return float(value) if isinstance(value, Decimal) else value


def sheet_row(row: Mapping[str, MergedCell]) -> dict[str, Cell]:
    return {name: sheet_cell(value) for name, value in row.items()}
