"""Reading JSON (an array of objects) and JSONL (one object per line) feeds.

Columns are the union of keys in order of first appearance; a key absent from a row is
null. Numbers keep their exact decimal text (parsed as text, never as binary floats);
``true``/``false`` become text. An object or array in a cell marks its column as nested:
the feed fails with ``unparseable_file`` only when that column is mapped. JSON rows are
numbered by array position (1, 2, …), JSONL rows by physical line; blank JSONL lines are
skipped.

Bounds (:mod:`limits`): a JSON array is read only up to :func:`json_document_limit`
characters (it is parsed whole: above that, ``feed_too_large`` before parsing); a JSONL line
up to ``max_line_bytes`` characters (``line_too_long``) and the whole file up to
``max_decoded_bytes``; arrays and objects nested deeper than ``max_json_depth`` levels (the
document's own array or a JSONL line's object is level 1) are ``nesting_too_deep``, also when
the parser itself gives up on the depth. Rows, columns and memory are bounded as the table is
built (:class:`TableGuard`).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from typing import Any

from relay_normalize.domain.limits import (
    DEFAULT_LIMITS,
    MEMORY,
    FeedLimits,
    FeedTooLarge,
    TableGuard,
    check_decoded,
    json_document_limit,
)
from relay_normalize.domain.read.feed_source import CHUNK_BYTES, FeedSource, open_binary
from relay_normalize.domain.read.raw_table import RawTable, TableBuilder, UnreadableFile
from relay_normalize.domain.text_cells import WHITESPACE


def _reject_constant(name: str) -> Any:
    raise UnreadableFile(f"{name} is not a JSON number")


def _loads(text: str, limits: FeedLimits, row: int | None = None) -> Any:
    try:
        return json.loads(text, parse_float=str, parse_int=str, parse_constant=_reject_constant)
    except RecursionError as exc:  # deeper than the parser's own stack allows
        raise _too_deep(limits, row) from exc


def _too_deep(limits: FeedLimits, row: int | None, key: str | None = None) -> FeedTooLarge:
    where = "the document" if row is None else f"row {row}"
    if key is not None:
        where += f" (key {key[:100]!r})"
    return FeedTooLarge(
        "nesting_too_deep",
        f"{where} is nested deeper than the limit of {limits.max_json_depth} levels",
        row=row,
        header=key,
    )


def _deeper_than(value: Any, levels: int) -> bool:
    """True when ``value`` (an array or object: one level) nests more than ``levels`` levels
    (walked without recursion; only nested cells are walked, so a flat feed costs nothing)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > levels:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _lines(
    source: FeedSource, encoding: str, limits: FeedLimits, guard: TableGuard
) -> Generator[str, None, None]:
    """The decoded lines (split at ``\\n`` only, kept), a leading BOM dropped; each read with
    a bound (``line_too_long``), the decoded total bounded too."""
    longest = limits.max_line_bytes
    total = 0
    with open_binary(source) as handle:
        text = io.TextIOWrapper(handle, encoding=encoding, newline="\n")
        try:
            number = 0
            while line := text.readline(longest + 1):
                number += 1
                if len(line) > longest and not (len(line) == longest + 1 and line[-1] == "\n"):
                    raise FeedTooLarge(
                        "line_too_long",
                        f"line {number} is longer than the limit of {longest} characters",
                        row=number,
                    )
                total += len(line)
                check_decoded(total, limits)
                guard.add_decoded(len(line))
                yield line.removeprefix("\ufeff") if number == 1 else line
        except UnicodeError as exc:
            raise UnreadableFile(f"cannot be decoded as {encoding}") from exc
        finally:
            text.detach()


def _text(source: FeedSource, encoding: str, limits: FeedLimits) -> str:
    """The whole decoded text, a leading BOM dropped; ``feed_too_large`` when it is longer
    than :func:`json_document_limit` (read no further than that)."""
    most = json_document_limit(limits)
    parts: list[str] = []
    read = 0
    try:
        with open_binary(source) as handle:
            reader = io.TextIOWrapper(handle, encoding=encoding, newline="")
            try:  # a chunk at a time: read(n) would first allocate n bytes
                while read <= most and (part := reader.read(CHUNK_BYTES)):
                    parts.append(part)
                    read += len(part)
            finally:
                reader.detach()
    except UnicodeError as exc:
        raise UnreadableFile(f"cannot be decoded as {encoding}") from exc
    if read > most:
        raise FeedTooLarge(
            "feed_too_large",
            f"a JSON array is parsed whole and may have at most {most} characters under the"
            f" memory cap of {limits.max_memory_bytes} bytes; JSONL is read line by line",
        )
    text = "".join(parts)
    del parts
    return text.removeprefix("\ufeff")


def _table(objects: Iterable[tuple[int, Any]], guard: TableGuard, levels: int) -> RawTable:
    """``levels``: the nesting a cell may have (the limit less the levels above a cell)."""
    positions: dict[str, int] = {}
    nested: set[int] = set()
    builder = TableBuilder(guard)
    for number, item in objects:
        if not isinstance(item, dict):
            raise UnreadableFile(f"row {number} is not an object")
        cells: list[str | None] = [None] * len(positions)
        for key, value in item.items():
            position = positions.setdefault(key, len(positions))
            if position >= len(cells):
                cells.extend([None] * (position + 1 - len(cells)))
            if isinstance(value, dict | list):
                if _deeper_than(value, levels):
                    raise _too_deep(guard.limits, number, key)
                nested.add(position)
            elif isinstance(value, bool):
                cells[position] = "true" if value else "false"
            else:
                cells[position] = value
        builder.add(number, cells)
    return builder.table(list(positions), frozenset(nested))


def read_json_table(
    source: FeedSource, *, encoding: str, limits: FeedLimits = DEFAULT_LIMITS
) -> RawTable:
    """An array of objects, numbered by position. One JSON value: it is parsed whole (its
    rows then become the table a chunk at a time, each object released once taken)."""
    text = _text(source, encoding, limits)
    size = len(text)
    try:
        document = _loads(text, limits)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid JSON: {exc}") from exc
    del text
    if not isinstance(document, list):
        raise UnreadableFile("the document is not an array of objects")
    document.reverse()  # taken from the end: each object is freed as its row is built

    def objects() -> Iterator[tuple[int, Any]]:
        for number in range(1, len(document) + 1):
            yield number, document.pop()

    # The document's objects are released as its rows are built, and the cleaning starts
    # once they are all gone: the rows are bounded as JSONL's are, next to (not on top of)
    # the document, whose memory was bounded before it was parsed (_text).
    table = _table(objects(), TableGuard(limits, size), limits.max_json_depth - 2)
    parsed = MEMORY.fixed + MEMORY.per_json_char * size
    return dataclasses.replace(table, memory=max(table.memory, parsed))


def read_jsonl_table(
    source: FeedSource, *, encoding: str, limits: FeedLimits = DEFAULT_LIMITS
) -> RawTable:
    """One object per line, numbered by physical line; read line by line (the file is closed
    however the reading ends)."""
    guard = TableGuard(limits)
    with closing(_lines(source, encoding, limits, guard)) as lines:
        return _table(_line_objects(lines, limits), guard, limits.max_json_depth - 1)


def _line_objects(lines: Iterator[str], limits: FeedLimits) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if line.strip(WHITESPACE):
            try:
                yield number, _loads(line, limits, number)
            except json.JSONDecodeError as exc:
                raise UnreadableFile(f"line {number} is not valid JSON") from exc
