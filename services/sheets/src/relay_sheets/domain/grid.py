"""Upserting rows into a worksheet, as a plan of cell writes (pure).

Rows are matched by their key columns and updated in place (only the cells a change names);
new keys are appended below the last used row. Cells right of the managed columns, and rows
whose key matches no change, are never written: they are the merchant's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from relay_sheets.domain.layout import WorksheetLayout

Cell = str | int | float | None


@dataclass(frozen=True)
class RowChange:
    """The managed cells of one row, by key. ``values`` are written on update and on append,
    ``insert_values`` only on append; ``append=False`` updates an existing row only."""

    key: tuple[str, ...]
    values: Mapping[str, Cell]
    insert_values: Mapping[str, Cell] = field(default_factory=dict)
    append: bool = True


@dataclass(frozen=True)
class WorksheetUpsert:
    layout: WorksheetLayout
    changes: Sequence[RowChange]


@dataclass(frozen=True)
class CellWrite:
    row: int  # 1-based; row 1 is the header
    column: int  # 1-based
    value: Cell


def key_text(value: Cell) -> str:
    """A cell as key text: a merchant's ``12`` and our ``"12"`` are the same key."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def iso(moment: datetime | None) -> str | None:
    """Timestamps are written as text, ``2026-01-01T00:00:00Z`` (xlsx cells have no zone)."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def row_keys(layout: WorksheetLayout, rows: Sequence[Sequence[Cell]]) -> dict[tuple[str, ...], int]:
    """Key → index (0-based, data rows) of the first row with that key; blank keys skipped."""
    positions = [layout.columns.index(c) for c in layout.key_columns]
    found: dict[tuple[str, ...], int] = {}
    for index, row in enumerate(rows):
        key = tuple(key_text(row[p]) if p < len(row) else "" for p in positions)
        if any(key) and key not in found:
            found[key] = index
    return found


def plan_writes(
    layout: WorksheetLayout,
    header: Sequence[Cell],
    rows: Sequence[Sequence[Cell]],
    last_row: int,
    changes: Sequence[RowChange],
) -> list[CellWrite]:
    """The cell writes that apply ``changes`` to a worksheet whose header row is ``header``,
    whose data rows (managed columns, from row 2) are ``rows`` and whose last used row is
    ``last_row``. Applying the plan twice leaves the same cells as applying it once."""
    writes = [
        CellWrite(1, column, name)
        for column, name in enumerate(layout.columns, start=1)
        if column > len(header) or header[column - 1] != name
    ]
    index = row_keys(layout, rows)
    next_row = max(last_row, 1) + 1
    for change in changes:
        at = index.get(change.key)
        if at is None:
            if not change.append:
                continue
            index[change.key] = next_row - 2
            row, values = next_row, {**_key_values(layout, change.key), **change.insert_values}
            values.update(change.values)
            next_row += 1
        else:
            row, values = at + 2, dict(change.values)
        writes.extend(
            CellWrite(row, layout.columns.index(name) + 1, value) for name, value in values.items()
        )
    return writes


def _key_values(layout: WorksheetLayout, key: tuple[str, ...]) -> dict[str, Cell]:
    return dict(zip(layout.key_columns, key, strict=True))
