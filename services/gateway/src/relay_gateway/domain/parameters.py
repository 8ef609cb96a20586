"""The shapes of path and query parameters, checked once at the edge (the input middleware)
and published in the OpenAPI document: an id that cannot name anything never reaches a
handler, a query or a log line.

A path id of the wrong shape names nothing (404); a query value of the wrong shape is a 422
naming the parameter; a control character (NUL included) anywhere in the path or the query
is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from relay_shared import identifiers
from relay_shared.event_schemas import SUBJECT_PATTERN


@dataclass(frozen=True)
class Shape:
    pattern: str
    what: str


PATH_SHAPES: Mapping[str, Shape] = {
    "tenant_id": Shape(identifiers.TENANT_ID_PATTERN, "tenant"),
    "vendor_id": Shape(identifiers.VENDOR_ID_PATTERN, "vendor"),
    "run_id": Shape(identifiers.RUN_ID_PATTERN, "run"),
    "key_id": Shape(identifiers.KEY_ID_PATTERN, "api key"),
    "channel": Shape(identifiers.CHANNEL_PATTERN, "channel"),
    "subject": Shape(SUBJECT_PATTERN, "subject"),
    "preview_id": Shape(identifiers.RUN_ID_PATTERN, "preview"),
}
QUERY_SHAPES: Mapping[str, Shape] = {
    "tenant_id": PATH_SHAPES["tenant_id"],
    "tenant": PATH_SHAPES["tenant_id"],
    "channel": PATH_SHAPES["channel"],
    "require_preview": PATH_SHAPES["preview_id"],
}
MAX_QUERY_VALUE_CHARS = 2048


@dataclass(frozen=True)
class ParameterProblem:
    """A parameter that cannot be taken: which, why, and whether it is malformed (control
    characters, length: 400) rather than of the wrong shape (404 in a path, 422 in a
    query)."""

    name: str
    message: str
    malformed: bool = False


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_character(text: str) -> bool:
    """A C0 control or DEL in ``text`` (one regular expression search, not a loop)."""
    return _CONTROL.search(text) is not None


def path_problem(match_info: Mapping[str, str]) -> ParameterProblem | None:
    """The first path parameter that cannot name anything, if any."""
    for name, value in match_info.items():
        shape = PATH_SHAPES.get(name)
        if shape is not None and not identifiers.matches(shape.pattern, value):
            return ParameterProblem(name, f"no such {shape.what}")
    return None


def query_problem(items: Iterable[tuple[str, str]]) -> ParameterProblem | None:
    """The first query parameter that is malformed (control characters, too long) or not of
    its shape, if any."""
    for name, value in items:
        if has_control_character(name) or has_control_character(value):
            return ParameterProblem(name[:64], "must not contain control characters", True)
        if len(value) > MAX_QUERY_VALUE_CHARS:
            return ParameterProblem(name[:64], "is too long", True)
        shape = QUERY_SHAPES.get(name)
        if shape is not None and not identifiers.matches(shape.pattern, value):
            return ParameterProblem(name, f"is not a valid {shape.what} name")
    return None
