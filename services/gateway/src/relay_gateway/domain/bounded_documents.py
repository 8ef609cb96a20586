"""JSON and YAML documents from untrusted bodies, bounded before they are built.

A 640-byte YAML document with nested aliases ("billion laughs") expands to gigabytes when it
is turned into plain values, a recursive alias never ends, and deep nesting exhausts Python's
stack. So a YAML document is first read as its event stream (iterative, nothing expanded):

- depth (open mappings and sequences) at most ``max_depth``;
- aliases at most ``max_aliases``, and never to a node that is still open (recursion);
- the document's size with every alias expanded at most ``max_nodes`` nodes.

Only then is it constructed. A JSON document is parsed (a size cap comes first, from the
caller) and then walked: depth, node count and NUL characters, which Postgres refuses in
text. Every refusal is a :class:`DocumentRefusedError` naming what and where, found in
milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)


@dataclass(frozen=True)
class DocumentLimits:
    max_depth: int = 32
    max_nodes: int = 200_000
    max_aliases: int = 1_000
    max_string_chars: int = 100_000


DEFAULT_LIMITS = DocumentLimits()


class DocumentRefusedError(ValueError):
    """The document is malformed or over a bound; ``path`` says where, when known."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


def load_json(raw: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Any:
    """The JSON value of ``raw``, within ``limits``."""
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise DocumentRefusedError(f"nested deeper than {limits.max_depth} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentRefusedError(f"the body is not valid JSON: {_short(exc)}") from exc
    check_values(data, limits)
    return data


def load_yaml(raw: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Any:
    """The YAML value of ``raw`` (one document, safe types), within ``limits``."""
    try:
        _check_events(raw, limits)
        data = yaml.safe_load(raw)
    except DocumentRefusedError:
        raise
    except RecursionError as exc:
        raise DocumentRefusedError(f"nested deeper than {limits.max_depth} levels") from exc
    except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
        raise DocumentRefusedError(f"the body is not valid YAML: {_short(exc)}") from exc
    check_values(data, limits)
    return data


def _check_events(raw: bytes, limits: DocumentLimits) -> None:
    """Depth, aliases and expanded size from the event stream, before anything is built."""
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, expanded nodes so far)
    sizes: dict[str, int] = {}
    total = aliases = 0
    for event in yaml.parse(raw, Loader=yaml.SafeLoader):
        if isinstance(event, AliasEvent):
            aliases += 1
            if aliases > limits.max_aliases:
                raise DocumentRefusedError(f"more than {limits.max_aliases} aliases")
            target = str(event.anchor)
            if target not in sizes:
                raise DocumentRefusedError(f"alias *{target} refers to itself or to nothing")
            added = sizes[target]
        elif isinstance(event, CollectionStartEvent):
            open_nodes.append((event.anchor, 0))
            if len(open_nodes) > limits.max_depth:
                raise DocumentRefusedError(f"nested deeper than {limits.max_depth} levels")
            continue
        elif isinstance(event, CollectionEndEvent):
            closed, added = open_nodes.pop()
            added += 1
            if closed is not None:
                sizes[closed] = added
        elif isinstance(event, ScalarEvent):
            added = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        else:
            continue
        if open_nodes:
            parent, size = open_nodes[-1]
            open_nodes[-1] = (parent, size + added)
        else:
            total += added
        if total + sum(size for _, size in open_nodes) > limits.max_nodes:
            raise DocumentRefusedError(
                f"more than {limits.max_nodes} values once its aliases are expanded"
            )


def check_values(data: Any, limits: DocumentLimits = DEFAULT_LIMITS) -> None:
    """Walk ``data`` without recursion: depth, node count, string sizes, no NUL."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    nodes = 0
    while stack:
        value, path, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise DocumentRefusedError(f"more than {limits.max_nodes} values")
        if depth > limits.max_depth:
            raise DocumentRefusedError(f"nested deeper than {limits.max_depth} levels", path)
        if isinstance(value, dict):
            for key, item in value.items():
                child = _child_path(path, key)
                _check_text(str(key), child, limits)
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, path, limits)


def _check_text(text: str, path: str, limits: DocumentLimits) -> None:
    if "\x00" in text:
        raise DocumentRefusedError("must not contain a NUL character", path)
    if len(text) > limits.max_string_chars:
        raise DocumentRefusedError(f"longer than {limits.max_string_chars} characters", path)


def _child_path(path: str, key: object) -> str:
    name = str(key)[:64].replace("\x00", "\\0")
    return f"{path}.{name}" if path else name


def _short(exc: BaseException) -> str:
    return str(exc).replace("\x00", "\\0")[:300]
