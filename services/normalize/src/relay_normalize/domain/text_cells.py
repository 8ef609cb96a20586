"""Whitespace and text cells.

"Whitespace" and ``trim`` are the shared ones (:mod:`relay_shared.whitespace`: the Unicode
``White_Space`` property, NBSP included), so the per-cell Python rules, the vectorised polars
expressions and the gateway's SKU map check strip exactly the same characters.
"""

from __future__ import annotations

import re

from relay_shared.whitespace import WHITESPACE, trim

__all__ = ["WHITESPACE", "WHITESPACE_CLASS", "collapse", "trim"]

WHITESPACE_CLASS = "[" + "".join(f"\\x{{{ord(ch):04X}}}" for ch in WHITESPACE) + "]"
_PY_WHITESPACE_RUN = re.compile("[" + re.escape(WHITESPACE) + "]+")


def collapse(text: str | None) -> str | None:
    """Trimmed text with inner whitespace runs collapsed to one space; empty → ``None``."""
    cleaned = _PY_WHITESPACE_RUN.sub(" ", trim(text)).strip(" ")
    return cleaned or None
