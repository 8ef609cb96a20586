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
import sys
from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from relay_shared.merged_feed import (
    REQUIRED_COLUMNS,
    MergedCell,
    MergedFeed,
    MergedFeedError,
    typed_cell,
)

#: what ``str.strip()`` removes (polars' own strip keeps U+001C..U+001F)
_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


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


def _trimmed(name: str) -> pl.Expr:
    trimmed = pl.col(name).str.strip_chars(_WHITESPACE)
    return pl.when(trimmed == "").then(None).otherwise(trimmed).alias(name)


@dataclass(frozen=True)
class CellProblem:
    """A cell the shared reader refuses: its row index and column position, and why."""

    index: int
    position: int
    error: MergedFeedError

    @property
    def place(self) -> tuple[int, int]:
        return (self.index, self.position)


def shared_rule_cells(
    text: pl.DataFrame, name: str, untyped: pl.Series
) -> tuple[dict[int, MergedCell], CellProblem | None]:
    """The cells of column ``name`` that ``untyped`` marks, typed by the shared reader's rule
    (by row index), up to the first it refuses."""
    cells = text[name]
    values: dict[int, MergedCell] = {}
    for index in untyped.arg_true().to_list():
        try:
            values[index] = typed_cell(name, cells[index], MergedFeed.row_number(index))
        except MergedFeedError as exc:
            return values, CellProblem(index, text.columns.index(name), exc)
    return values, None


def first_problem(problems: Collection[CellProblem | None]) -> CellProblem | None:
    """The first in file order (row, then column) of some columns' problems."""
    found = [problem for problem in problems if problem is not None]
    return min(found, key=lambda problem: problem.place) if found else None
