"""Reading JSON (an array of objects) and JSONL (one object per line) feeds.

Columns are the union of keys in order of first appearance; a key absent from a row is
null. Numbers keep their exact decimal text (parsed as text, never as binary floats);
``true``/``false`` become text. An object or array in a cell marks its column as nested:
the feed fails with ``unparseable_file`` only when that column is mapped. JSON rows are
numbered by array position (1, 2, …), JSONL rows by physical line; blank JSONL lines are
skipped.
"""

from __future__ import annotations

import io
import json
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from typing import Any

from relay_normalize.domain.feed_source import FeedSource, open_binary
from relay_normalize.domain.raw_table import RawTable, TableBuilder, UnreadableFile
from relay_normalize.domain.text_cells import WHITESPACE


def _reject_constant(name: str) -> Any:
    raise UnreadableFile(f"{name} is not a JSON number")


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=_reject_constant)


def _lines(source: FeedSource, encoding: str) -> Generator[str, None, None]:
    """The decoded lines (split at ``\n`` only, kept), a leading BOM dropped."""
    with open_binary(source) as handle:
        text = io.TextIOWrapper(handle, encoding=encoding, newline="\n")
        try:
            for number, line in enumerate(text):
                yield line.removeprefix("\ufeff") if number == 0 else line
        except UnicodeError as exc:
            raise UnreadableFile(f"cannot be decoded as {encoding}") from exc
        finally:
            text.detach()


def _text(source: FeedSource, encoding: str) -> str:
    """The whole decoded text, a leading BOM dropped."""
    try:
        if isinstance(source, bytes):
            text = source.decode(encoding)
        else:
            with source.open(encoding=encoding, newline="") as handle:
                text = handle.read()
    except UnicodeError as exc:
        raise UnreadableFile(f"cannot be decoded as {encoding}") from exc
    return text.removeprefix("\ufeff")


def _table(objects: Iterable[tuple[int, Any]]) -> RawTable:
    positions: dict[str, int] = {}
    nested: set[int] = set()
    builder = TableBuilder()
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
        builder.add(number, cells)
    return builder.table(list(positions), frozenset(nested))


def read_json_table(source: FeedSource, *, encoding: str) -> RawTable:
    """An array of objects, numbered by position. One JSON value: it is parsed whole (its
    rows then become the table a chunk at a time, each object released once taken)."""
    try:
        document = _loads(_text(source, encoding))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid JSON: {exc}") from exc
    if not isinstance(document, list):
        raise UnreadableFile("the document is not an array of objects")
    document.reverse()  # taken from the end: each object is freed as its row is built

    def objects() -> Iterator[tuple[int, Any]]:
        for number in range(1, len(document) + 1):
            yield number, document.pop()

    return _table(objects())


def read_jsonl_table(source: FeedSource, *, encoding: str) -> RawTable:
    """One object per line, numbered by physical line; read line by line (the file is closed
    however the reading ends)."""
    with closing(_lines(source, encoding)) as lines:
        return _table(_line_objects(lines))


def _line_objects(lines: Iterator[str]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if line.strip(WHITESPACE):
            try:
                yield number, _loads(line)
            except json.JSONDecodeError as exc:
                raise UnreadableFile(f"line {number} is not valid JSON") from exc
