"""Reading JSON (an array of objects) and JSONL (one object per line) feeds.

Columns are the union of keys in order of first appearance; a key absent from a row is
null. Numbers keep their exact decimal text (parsed as text, never as binary floats);
``true``/``false`` become text. An object or array in a cell marks its column as nested:
the feed fails with ``unparseable_file`` only when that column is mapped. JSON rows are
numbered by array position (1, 2, …), JSONL rows by physical line; blank JSONL lines are
skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from relay_normalize.domain.raw_table import RawTable, UnreadableFile, table_from_rows
from relay_normalize.domain.text_cells import WHITESPACE


def _reject_constant(name: str) -> Any:
    raise UnreadableFile(f"{name} is not a JSON number")


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=_reject_constant)


def _decode(raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeError as exc:
        raise UnreadableFile(f"cannot be decoded as {encoding}") from exc
    return text.removeprefix("\ufeff")


def _table(objects: Iterable[tuple[int, Any]]) -> RawTable:
    positions: dict[str, int] = {}
    nested: set[int] = set()
    rows: list[tuple[int, list[str | None]]] = []
    for number, item in objects:
        if not isinstance(item, dict):
            raise UnreadableFile(f"row {number} is not an object")
        cells: list[str | None] = [None] * len(positions)
        for key, value in item.items():
            position = positions.setdefault(key, len(positions))
            if position >= len(cells):
                cells.extend([None] * (position + 1 - len(cells)))
            if isinstance(value, dict | list):
                nested.add(position)
            elif isinstance(value, bool):
                cells[position] = "true" if value else "false"
            else:
                cells[position] = value
        rows.append((number, cells))
    return table_from_rows(list(positions), rows, frozenset(nested))


def read_json_table(raw: bytes, *, encoding: str) -> RawTable:
    """An array of objects, numbered by position."""
    try:
        document = _loads(_decode(raw, encoding))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid JSON: {exc}") from exc
    if not isinstance(document, list):
        raise UnreadableFile("the document is not an array of objects")
    return _table(enumerate(document, start=1))


def read_jsonl_table(raw: bytes, *, encoding: str) -> RawTable:
    """One object per line, numbered by physical line."""
    text = _decode(raw, encoding)

    def objects() -> Iterable[tuple[int, Any]]:
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip(WHITESPACE):
                try:
                    yield number, _loads(line)
                except json.JSONDecodeError as exc:
                    raise UnreadableFile(f"line {number} is not valid JSON") from exc

    return _table(objects())
