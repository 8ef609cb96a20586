"""The raw table every reader produces: text cells by position, with row numbers.

Polars' ``strip_chars()`` strips the Unicode ``White_Space`` set (see
:mod:`relay_normalize.domain.text_cells`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from relay_normalize.domain.limits import TableGuard

ROW = "__row"


class UnreadableFile(ValueError):
    """The bytes cannot be read in the configured format (code ``unparseable_file``)."""

    code = "unparseable_file"


@dataclass(frozen=True, slots=True)
class RawTable:
    """``frame`` holds String columns ``c0..cN`` (``headers[i]`` names ``ci``) and ``__row``.

    ``nested_columns`` lists positions where a JSON feed held an object or array; ``memory``
    is the reader's estimate of normalizing it (:mod:`relay_normalize.domain.limits`).
    """

    frame: pl.DataFrame
    headers: list[str]
    nested_columns: frozenset[int] = field(default_factory=frozenset)
    memory: int = 0


def column_name(position: int) -> str:
    return f"c{position}"


def _empty(name: str) -> pl.Expr:
    return pl.col(name).is_null() | (pl.col(name).str.strip_chars() == "")


def drop_blank_records(frame: pl.DataFrame, width: int) -> pl.DataFrame:
    """Records whose every cell is empty or whitespace (or that are only delimiters).

    Only rows whose first cell is empty can be blank, so the other cells are checked on
    those rows alone (usually none).
    """
    if width == 0 or frame.height == 0:
        return frame
    first_empty = frame.select(_empty(column_name(0))).to_series()
    if not first_empty.any():
        return frame
    candidates = frame.filter(first_empty)
    blank = candidates.select(pl.all_horizontal([_empty(column_name(i)) for i in range(width)]))
    if not blank.to_series().any():
        return frame
    positions = first_empty.arg_true().filter(blank.to_series())
    drop = pl.repeat(False, frame.height, eager=True).scatter(positions, True)
    return frame.filter(~drop)


ROWS_PER_CHUNK = 65_536
CELLS_PER_CHUNK = 1 << 20


class TableBuilder:
    """Builds a :class:`RawTable` from Python rows ``(row_number, cells)`` (xlsx, json,
    the tolerant CSV reader) a chunk at a time: rows become a frame every
    :data:`ROWS_PER_CHUNK` rows or :data:`CELLS_PER_CHUNK` cells, so at most one chunk exists
    both as Python cells and as frame.

    Rows may grow wider as they come (a JSON key seen late): earlier chunks get the new
    columns as nulls. The table is cut or padded to its headers' width at the end. A
    ``guard`` sees every row first (its rows, columns and memory are bounded).
    """

    def __init__(self, guard: TableGuard | None = None) -> None:
        self._numbers: list[int] = []
        self._rows: list[Sequence[str | None]] = []
        self._chunks: list[pl.DataFrame] = []
        self._width = 0
        self._cells = 0
        self._guard = guard

    def add(self, number: int, cells: Sequence[str | None]) -> None:
        width = len(cells)
        if self._guard is not None:
            self._guard.row(number, width)
        self._numbers.append(number)
        self._rows.append(cells)
        self._width = max(self._width, width)
        self._cells += width
        if len(self._rows) >= ROWS_PER_CHUNK or self._cells >= CELLS_PER_CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        rows = self._rows
        data: dict[str, list[str | None] | list[int]] = {
            column_name(i): [cells[i] if i < len(cells) else None for cells in rows]
            for i in range(self._width)
        }
        data[ROW] = self._numbers
        schema: dict[str, type[pl.DataType]] = {
            **{column_name(i): pl.String for i in range(self._width)},
            ROW: pl.Int64,
        }
        self._chunks.append(pl.DataFrame(data, schema=schema))
        self._numbers, self._rows, self._cells = [], [], 0

    def frame(self, width: int) -> pl.DataFrame:
        """The rows added so far as ``c0..c<width-1>`` (cut or padded) and ``__row``."""
        self._flush()
        chunks, self._chunks = self._chunks, []
        found = pl.concat(chunks, how="diagonal") if chunks else pl.DataFrame({ROW: []})
        return found.select(
            *(
                pl.col(name) if name in found.columns else pl.lit(None, pl.String).alias(name)
                for name in map(column_name, range(width))
            ),
            pl.col(ROW).cast(pl.Int64),
        )

    def table(self, headers: Sequence[str], nested: frozenset[int] = frozenset()) -> RawTable:
        """The rows added so far under ``headers``, blank records dropped."""
        width = len(headers)
        memory = 0 if self._guard is None else self._guard.estimate()
        frame = drop_blank_records(self.frame(width), width)
        return RawTable(frame, list(headers), nested, memory)
