"""Upserting rows into a worksheet, as a plan of cell writes (pure).

Rows are matched by their key columns and updated in place (only the cells a change names);
new keys are appended below the last used row. Cells right of the managed columns, and rows
whose key matches no change, are never written: they are the merchant's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    positions = _key_positions(layout)
    found: dict[tuple[str, ...], int] = {}
    for index, row in enumerate(rows):
        key = _row_key(positions, row)
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
    return WorksheetGrid(layout, header, rows, last_row).plan(changes)


class WorksheetGrid:
    """A worksheet's managed cells in memory, for many upserts against one loaded worksheet.

    :meth:`plan` gives the writes of some changes (the rules of :func:`plan_writes`) without
    changing the grid; :meth:`commit` records writes that were applied, so the next plan and
    :meth:`find` see them. Lookups by key cost O(1), not a pass over the rows.
    """

    def __init__(
        self,
        layout: WorksheetLayout,
        header: Sequence[Cell],
        rows: Sequence[Sequence[Cell]],
        last_row: int,
    ) -> None:
        self.layout = layout
        self._width = len(layout.columns)
        self._positions = _key_positions(layout)
        self._header = _padded(header, self._width)
        self._rows = [_padded(row, self._width) for row in rows]
        self._index = row_keys(layout, self._rows)
        self._next_row = max(last_row, 1) + 1

    def find(self, key: tuple[str, ...]) -> dict[str, Cell] | None:
        """The managed cells of the first row with ``key``, by column name."""
        at = self._index.get(key)
        if at is None:
            return None
        return dict(zip(self.layout.columns, self._rows[at], strict=True))

    def keys(self) -> set[tuple[str, ...]]:
        """Every key a row has."""
        return set(self._index)

    def plan(self, changes: Sequence[RowChange]) -> list[CellWrite]:
        columns = self.layout.columns
        writes = [
            CellWrite(1, column, name)
            for column, name in enumerate(columns, start=1)
            if self._header[column - 1] != name
        ]
        appended: dict[tuple[str, ...], int] = {}
        next_row = self._next_row
        for change in changes:
            at = appended.get(change.key, self._index.get(change.key))
            if at is None:
                if not change.append:
                    continue
                appended[change.key] = next_row - 2
                row, values = next_row, {**_key_values(self.layout, change.key)}
                values.update(change.insert_values)
                values.update(change.values)
                next_row += 1
            else:
                row, values = at + 2, dict(change.values)
            writes.extend(
                CellWrite(row, columns.index(name) + 1, value) for name, value in values.items()
            )
        return writes

    def commit(self, writes: Sequence[CellWrite]) -> None:
        """Record ``writes`` (a plan of this grid) as applied to the worksheet."""
        touched: set[int] = set()
        for write in writes:
            if write.row == 1:
                self._header[write.column - 1] = write.value
                continue
            at = write.row - 2
            while len(self._rows) <= at:
                self._rows.append([None] * self._width)
            self._rows[at][write.column - 1] = write.value
            touched.add(at)
            self._next_row = max(self._next_row, write.row + 1)
        for at in sorted(touched):
            key = _row_key(self._positions, self._rows[at])
            if any(key):
                self._index.setdefault(key, at)


def _key_positions(layout: WorksheetLayout) -> list[int]:
    return [layout.columns.index(c) for c in layout.key_columns]


def _row_key(positions: Sequence[int], row: Sequence[Cell]) -> tuple[str, ...]:
    return tuple(key_text(row[p]) if p < len(row) else "" for p in positions)


def _padded(cells: Sequence[Cell], width: int) -> list[Cell]:
    return [*cells[:width], *([None] * (width - len(cells)))]


def _key_values(layout: WorksheetLayout, key: tuple[str, ...]) -> dict[str, Cell]:
    return dict(zip(layout.key_columns, key, strict=True))


#: Each worksheet's grid with the cell writes one edit plans for it.
Planned = list[tuple[WorksheetGrid, list[CellWrite]]]


def plan_edit(
    upserts: Sequence[WorksheetUpsert], grid_for: Callable[[WorksheetLayout], WorksheetGrid]
) -> Planned:
    """One plan per worksheet (an edit's upserts of one worksheet are joined, in order);
    ``ValueError`` when the edit gives one worksheet two layouts."""
    layouts: dict[str, WorksheetLayout] = {}
    changes: dict[str, list[RowChange]] = {}
    for upsert in upserts:
        title = upsert.layout.title
        if layouts.setdefault(title, upsert.layout) != upsert.layout:
            raise ValueError(f"one edit gives worksheet {title!r} two layouts")
        changes.setdefault(title, []).extend(upsert.changes)
    planned = []
    for title, layout in layouts.items():
        grid = grid_for(layout)
        planned.append((grid, grid.plan(changes[title])))
    return planned
