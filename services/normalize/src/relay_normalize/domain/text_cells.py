"""Whitespace and text cells.

"Whitespace" is the Unicode ``White_Space`` property (NBSP included). It is spelled out here
so the per-cell Python rules and the vectorised polars expressions strip exactly the same
characters (Python's ``str.strip()`` also strips U+001C–U+001F, polars would not).
"""

from __future__ import annotations

import re

WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# The same set for a regex character class, escaped (works in Python re and Rust regex).
WHITESPACE_CLASS = "[" + "".join(f"\\x{{{ord(ch):04X}}}" for ch in WHITESPACE) + "]"
_PY_WHITESPACE_RUN = re.compile("[" + re.escape(WHITESPACE) + "]+")


def trim(text: str | None) -> str:
    """The cell without leading/trailing whitespace; ``None`` becomes ``""``."""
    return "" if text is None else text.strip(WHITESPACE)


def collapse(text: str | None) -> str | None:
    """Trimmed text with inner whitespace runs collapsed to one space; empty → ``None``."""
    cleaned = _PY_WHITESPACE_RUN.sub(" ", trim(text)).strip(" ")
    return cleaned or None
