"""The raw table every reader produces: text cells by position, with row numbers.

Polars' ``strip_chars()`` strips the Unicode ``White_Space`` set (see :mod:`text_cells`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

ROW = "__row"


class UnreadableFile(ValueError):
    """The bytes cannot be read in the configured format (code ``unparseable_file``)."""

    code = "unparseable_file"


@dataclass(frozen=True, slots=True)
class RawTable:
    """``frame`` holds String columns ``c0..cN`` (``headers[i]`` names ``ci``) and ``__row``.

    ``nested_columns`` lists positions where a JSON feed held an object or array.
    """

    frame: pl.DataFrame
    headers: list[str]
    nested_columns: frozenset[int] = field(default_factory=frozenset)


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


def table_from_rows(
    headers: Sequence[str], rows: Sequence[tuple[int, Sequence[str | None]]], nested: frozenset[int]
) -> RawTable:
    """A table from Python rows ``(row_number, cells)`` (xlsx, json); blank records dropped."""
    width = len(headers)
    data: dict[str, list[str | None] | list[int]] = {
        column_name(i): [cells[i] if i < len(cells) else None for _, cells in rows]
        for i in range(width)
    }
    data[ROW] = [number for number, _ in rows]
    schema: dict[str, type[pl.DataType]] = {column_name(i): pl.String for i in range(width)}
    schema[ROW] = pl.Int64
    frame = pl.DataFrame(data, schema=schema)
    return RawTable(drop_blank_records(frame, width), list(headers), nested)
