"""SKU maps: a CSV ``vendor_sku,sku`` (UTF-8, BOM allowed) or the config's inline entries.

The rule is the shared one (:mod:`relay_shared.sku_map_rule`, which the gateway's upload
check uses too): keys and values are trimmed; keys match exactly (case-sensitive). Several
vendor SKUs may map to one SKU; one vendor SKU mapped to two different SKUs is
``sku_map_conflict``. A map that
cannot be read (undecodable, no ``vendor_sku``/``sku`` headers, a record with an empty key or
value) is ``sku_map_unavailable``. Blank records and exact repeats are ignored.

A map is read into a two-column frame (``__key``, ``__mapped``) that the feed joins
(:func:`relay_normalize.domain.clean.sku.with_sku_inputs`). A file without a double quote (the
usual export) is split and checked by polars, column-wise; one with quotes (a quoted cell may
hold commas or line breaks), or a line longer than the reader's field limit, goes through
Python's ``csv`` reader. Both give the same map
and the same first problem, in record order (a property test holds them to it).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from relay_shared.sku_map_rule import (
    EmptyCell,
    MapProblem,
    SkuMapUnreadableError,
    add_mapping,
    csv_records,
    header_columns,
    read_mappings,
)
from relay_shared.whitespace import WHITESPACE, trim

KEY, MAPPED = "__key", "__mapped"
_SCHEMA = {KEY: pl.String, MAPPED: pl.String}


class SkuMapError(ValueError):
    """The map cannot be used; ``code`` is the feed failure code, ``value`` the culprit."""

    def __init__(self, code: str, detail: str, value: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.value = value


@dataclass(frozen=True, eq=False)
class SkuMap:
    """A usable map: one row per vendor SKU (first-seen order) and the SHA-256 of the file
    it was read from (``None`` for an inline map)."""

    frame: pl.DataFrame
    sha256: str | None

    def __len__(self) -> int:
        return self.frame.height

    def as_dict(self) -> dict[str, str]:
        return dict(zip(self.frame[KEY].to_list(), self.frame[MAPPED].to_list(), strict=True))


def parse_sku_map(raw: bytes) -> SkuMap:
    """The map in the CSV ``raw``; :class:`SkuMapError` for the first problem."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkuMapError("sku_map_unavailable", "the map is not UTF-8") from exc
    digest = hashlib.sha256(raw).hexdigest()
    plain = None if '"' in text or not text else _read_plain(text)
    if plain is None:
        return SkuMap(_frame_of(_read_records(text)), digest)
    return SkuMap(plain, digest)


def check_inline_map(entries: Mapping[str, str]) -> SkuMap:
    """Inline entries, trimmed (two keys that trim alike must agree)."""
    result: dict[str, str] = {}
    for key, value in entries.items():
        _add(result, trim(key), trim(value))
    return SkuMap(_frame_of(result), None)


def _read_plain(text: str) -> pl.DataFrame | None:
    """A quote-free map, column-wise: records are lines (``\\r\\n``, ``\\r`` or ``\\n``, as the
    ``csv`` reader ends them), cells are split on commas. None when a cell is longer than the
    ``csv`` reader's field limit (it refuses such a map, and says so)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if text.endswith(("\n", "\r")):
        lines.pop()  # the csv reader sees no record after the last line break
    line_cells = pl.Series("line", lines, pl.String).str.split(",")
    if _longest_cell(lines, line_cells) > csv.field_size_limit():
        return None
    key_at, value_at = _columns(lines[0].split(","))
    cells = line_cells.slice(1)
    records = pl.DataFrame(
        {
            "number": pl.int_range(2, len(lines) + 1, eager=True),
            KEY: _trimmed(cells.list.get(key_at, null_on_oob=True)),
            MAPPED: _trimmed(cells.list.get(value_at, null_on_oob=True)),
            "blank": cells.list.eval(_trimmed_expr(pl.element()) == "").list.all(),
        }
    ).filter(~pl.col("blank"))
    _check(records)
    return records.unique(KEY, keep="first", maintain_order=True).select(KEY, MAPPED)


def _longest_cell(lines: list[str], cells: pl.Series) -> int:
    if max(map(len, lines)) <= csv.field_size_limit():
        return 0
    longest = cells.list.eval(pl.element().str.len_chars()).list.max().max()
    return longest if isinstance(longest, int) else 0


def _trimmed(cells: pl.Series) -> pl.Series:
    return cells.fill_null("").str.strip_chars(WHITESPACE)


def _trimmed_expr(cell: pl.Expr) -> pl.Expr:
    return cell.str.strip_chars(WHITESPACE)


def _check(records: pl.DataFrame) -> None:
    """The first record (in file order) with an empty cell or a conflicting SKU, as the
    record-by-record reading would find it."""
    first = records.group_by(KEY, maintain_order=True).agg(pl.col(MAPPED).first().alias("known"))
    found = (
        records.join(first, on=KEY, how="left", maintain_order="left")
        .filter((pl.col(KEY) == "") | (pl.col(MAPPED) == "") | (pl.col(MAPPED) != pl.col("known")))
        .head(1)
        .rows(named=True)
    )
    if not found:
        return
    [row] = found
    if not row[KEY] or not row[MAPPED]:
        raise SkuMapError("sku_map_unavailable", f"line {row['number']} has an empty cell")
    raise _conflict(row[KEY], row["known"], row[MAPPED])


def _read_records(text: str) -> dict[str, str]:
    """The map record by record through the ``csv`` reader (quoted cells, or a line past
    the reader's field limit, which it refuses), by the shared rule."""
    try:
        records = csv_records(text)
        key_at, value_at = header_columns(records[0])
    except SkuMapUnreadableError as exc:
        raise SkuMapError("sku_map_unavailable", str(exc)) from exc
    entries, problems = read_mappings(records[1:], key_at, value_at, max_problems=1)
    for problem in problems:
        raise _error_of(problem)
    return entries


def _columns(header: list[str]) -> tuple[int, int]:
    try:
        return header_columns(header)
    except SkuMapUnreadableError as exc:
        raise SkuMapError("sku_map_unavailable", str(exc)) from exc


def _error_of(problem: MapProblem) -> SkuMapError:
    if isinstance(problem, EmptyCell):
        return SkuMapError("sku_map_unavailable", f"line {problem.index + 2} has an empty cell")
    return _conflict(problem.key, problem.known, problem.value)


def _conflict(key: str, known: str, value: str) -> SkuMapError:
    return SkuMapError("sku_map_conflict", f"{key!r} maps to {known!r} and {value!r}", value=key)


def _add(entries: dict[str, str], key: str, value: str) -> None:
    known = add_mapping(entries, key, value)
    if known is not None:
        raise _conflict(key, known, value)


def _frame_of(entries: Mapping[str, str]) -> pl.DataFrame:
    return pl.DataFrame({KEY: list(entries), MAPPED: list(entries.values())}, schema=_SCHEMA)
