"""Whitespace as every service trims it: feed cells in normalize, SKU map cells in normalize
and the gateway."""

from __future__ import annotations

#: What a feed's or a map's cell is trimmed of: the Unicode ``White_Space`` property (NBSP
#: included), spelled out so that Python and polars strip exactly the same characters
#: (Python's ``str.strip()`` also strips U+001C–U+001F, polars would not).
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def trim(text: str | None) -> str:
    """The cell without leading/trailing whitespace; ``None`` becomes ``""``."""
    return "" if text is None else text.strip(WHITESPACE)
