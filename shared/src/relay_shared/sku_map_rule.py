"""The SKU map rule, record by record: a CSV ``vendor_sku,sku`` (headers matched trimmed and
case-blind, in any order, other columns ignored); keys and values trimmed of whitespace
(:func:`relay_shared.whitespace.trim`); blank records skipped; a record with an empty key or
value is a problem; several vendor SKUs may map to one SKU, but one vendor SKU mapped to two
different SKUs is a conflict. Exact repeats are no problem.

Two callers hold to it: the gateway, which checks an uploaded map and lists its problems, and
normalize, which applies a map and fails the feed on its first problem (normalize also reads
quote-free maps column-wise in polars; a property test holds that path to this one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from relay_shared.whitespace import trim

KEY_HEADER, VALUE_HEADER = "vendor_sku", "sku"


class SkuMapUnreadableError(ValueError):
    """The map is not CSV, is empty, or lacks the headers: nothing in it can be used."""


@dataclass(frozen=True, slots=True)
class EmptyCell:
    """Data record ``index`` (0-based, after the header) has an empty key or value."""

    index: int


@dataclass(frozen=True, slots=True)
class Conflict:
    """Data record ``index`` maps ``key`` to ``value`` after an earlier record mapped it to
    ``known``."""

    index: int
    key: str
    known: str
    value: str


MapProblem = EmptyCell | Conflict


def csv_records(text: str) -> list[list[str]]:
    """Every record of the map's text (quoted cells may hold commas and line breaks)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise SkuMapUnreadableError(f"the map is not valid CSV: {exc}") from exc
    if not records:
        raise SkuMapUnreadableError("the map is empty")
    return records


def header_columns(header: list[str]) -> tuple[int, int]:
    """Where the key and the value are, from the header record."""
    names = [trim(cell).lower() for cell in header]
    if KEY_HEADER not in names or VALUE_HEADER not in names:
        raise SkuMapUnreadableError("the map needs the headers vendor_sku,sku")
    return names.index(KEY_HEADER), names.index(VALUE_HEADER)


def add_mapping(entries: dict[str, str], key: str, value: str) -> str | None:
    """Add ``key → value``; the SKU ``key`` already maps to when that is another one (then
    ``entries`` is unchanged), else None."""
    known = entries.setdefault(key, value)
    return known if known != value else None


def read_mappings(
    records: Iterable[list[str]], key_at: int, value_at: int, *, max_problems: int
) -> tuple[dict[str, str], list[MapProblem]]:
    """The mappings of the data records, and their problems in record order (reading stops
    at ``max_problems``)."""
    entries: dict[str, str] = {}
    problems: list[MapProblem] = []
    for index, record in enumerate(records):
        if not any(trim(cell) for cell in record):
            continue
        key = trim(record[key_at]) if key_at < len(record) else ""
        value = trim(record[value_at]) if value_at < len(record) else ""
        known = add_mapping(entries, key, value) if key and value else None
        if not key or not value:
            problems.append(EmptyCell(index))
        elif known is not None:
            problems.append(Conflict(index, key, known, value))
        if len(problems) >= max_problems:
            break
    return entries, problems
