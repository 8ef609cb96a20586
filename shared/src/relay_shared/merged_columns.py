"""A merged inventory read as columns: the same rows and cells as
:func:`relay_shared.merged_feed.read_merged_feed`, for feeds too long for a dict per row.

The rows are split by Python's ``csv`` exactly as the shared reader splits them (one BOM
dropped, blank lines skipped, a repeated column name's last column kept, a short row's missing
cells empty), keeping only some columns' text: about 250 bytes a row for four columns, where a
dict of typed cells costs about 1 KB. polars trims them as ``str.strip()`` does and types the
plain cells; a cell it leaves untyped goes through the shared reader's own cell rule
(:func:`~relay_shared.merged_feed.typed_cell`), so both readers agree on every cell and on the
first one they refuse.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from relay_shared.merged_feed import (
    REQUIRED_COLUMNS,
    MergedCell,
    MergedFeed,
    MergedFeedError,
    typed_cell,
)

#: rows held as Python strings before they move into polars (bounds their memory)
CHUNK_ROWS = 100_000


def read_text_columns(data: bytes, columns: Collection[str]) -> pl.DataFrame:
    """The feed's columns among ``columns``, in header order, as trimmed text (an empty cell
    null), one row per row the shared reader reads; :class:`MergedFeedError` as it raises it
    (not UTF-8, a required column missing). The text is decoded line by line (one copy of a
    large file is enough) and moved into polars every :data:`CHUNK_ROWS` rows."""
    try:
        data.decode("utf-8")  # checked whole first, as the shared reader does
    except UnicodeDecodeError as exc:
        raise MergedFeedError("the merged feed is not UTF-8") from exc
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(lines)
    header = next(reader, [])
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise MergedFeedError(f"the merged feed has no column {', '.join(missing)}")
    last = {name: index for index, name in enumerate(header) if name in columns}
    kept = sorted(last, key=header.index)
    schema = dict.fromkeys(kept, pl.String)
    chunks: list[pl.DataFrame] = []
    cells: dict[str, list[str | None]] = {name: [] for name in kept}
    places = [(cells[name].append, last[name]) for name in kept]
    held = 0
    for fields in reader:
        if not fields:
            continue  # a blank line: DictReader skips it
        width = len(fields)
        for append, index in places:
            append(fields[index] if index < width else None)
        held += 1
        if held == CHUNK_ROWS:
            chunks.append(_chunk(cells, schema))
            held = 0
    chunks.append(_chunk(cells, schema))
    frame = pl.concat(chunks, rechunk=True)
    return frame.select(_trimmed(name) for name in kept)


def _chunk(cells: dict[str, list[str | None]], schema: dict[str, type[pl.String]]) -> pl.DataFrame:
    """The held rows as a frame; the lists are emptied for the next rows."""
    chunk = pl.DataFrame(cells, schema=schema)
    for held in cells.values():
        held.clear()
    return chunk


#: what ``str.strip()`` removes (polars' own strip keeps U+001C..U+001F): every code point
#: whose ``isspace()`` is true, written out (finding them scans 1.1M code points, ~50 ms, which
#: would land on a service's start or its first feed); tests/contracts check the list
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _trimmed(name: str) -> pl.Expr:
    trimmed = pl.col(name).str.strip_chars(WHITESPACE)
    return pl.when(trimmed == "").then(None).otherwise(trimmed).alias(name)


@dataclass(frozen=True)
class CellProblem:
    """A cell refused: its row index and column position, and why."""

    index: int
    position: int
    error: MergedFeedError

    @property
    def place(self) -> tuple[int, int]:
        return (self.index, self.position)


#: a reader's own limit on a cell the shared rule typed: (value, raw text, row number) → the
#: value as its column holds it, or :class:`MergedFeedError` for a number too large for it
Fit = Callable[[MergedCell, str, int], Any]


@dataclass(frozen=True)
class TypedColumn:
    """A column typed, its first cell the shared reader refuses and its first number too
    large for the reader's column (by ``Fit``), when any."""

    values: pl.Series
    bad: CellProblem | None = None
    too_large: CellProblem | None = None


def typed_column(
    text: pl.DataFrame, name: str, typed: pl.Series, plain: pl.Series, fit: Fit
) -> TypedColumn:
    """Column ``name`` of ``text`` typed: ``typed`` (polars' typing) where ``plain`` holds,
    elsewhere each non-empty cell typed by the shared reader's rule and then ``fit``."""
    cells = text[name]
    position = text.columns.index(name)
    values: dict[int, Any] = {}
    too_large: CellProblem | None = None
    for index in (cells.is_not_null() & ~plain.fill_null(False)).arg_true().to_list():
        raw, row = cells[index], MergedFeed.row_number(index)
        try:
            value = typed_cell(name, raw, row)
        except MergedFeedError as exc:
            return TypedColumn(typed, bad=CellProblem(index, position, exc))
        try:
            values[index] = fit(value, raw, row)
        except MergedFeedError as exc:
            too_large = too_large or CellProblem(index, position, exc)
    if values:
        typed = typed.scatter(list(values), list(values.values()))
    return TypedColumn(typed, too_large=too_large)


def raise_first_problem(columns: Sequence[TypedColumn]) -> None:
    """Raise the first cell the shared reader refuses, else the first number too large, each
    the first in file order (row, then column) among ``columns``."""
    for found in (
        [column.bad for column in columns if column.bad is not None],
        [column.too_large for column in columns if column.too_large is not None],
    ):
        if found:
            raise min(found, key=lambda problem: problem.place).error
