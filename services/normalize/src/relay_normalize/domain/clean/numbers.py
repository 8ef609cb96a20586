"""Reading numbers written the way vendors write them.

``decimal_separator`` is the decimal mark; the other of ``.``/``,``, a space, NBSP or ``'``
may separate thousands, in groups of exactly three digits, one separator kind per number.
``.99`` and ``12.`` are numbers; a sign may lead.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

_THOUSANDS = {".": [",", " ", "\xa0", "'"], ",": [".", " ", "\xa0", "'"]}


@lru_cache(maxsize=4)
def number_pattern(decimal_separator: str) -> re.Pattern[str]:
    """The regex of one number for this decimal mark (groups: sign, int, frac)."""
    seps = "".join(re.escape(sep) for sep in _THOUSANDS[decimal_separator])
    dec = re.escape(decimal_separator)
    grouped = rf"[0-9]{{1,3}}(?:(?P<sep>[{seps}])[0-9]{{3}})(?:(?P=sep)[0-9]{{3}})*"
    return re.compile(rf"(?P<sign>[+-])?(?P<int>{grouped}|[0-9]+)?(?:{dec}(?P<frac>[0-9]*))?")


def parse_number(text: str, decimal_separator: str) -> Decimal | None:
    """The exact value of ``text`` (already trimmed), or ``None`` if it is not a number."""
    match = number_pattern(decimal_separator).fullmatch(text)
    if match is None:
        return None
    int_part = match.group("int") or ""
    frac = match.group("frac") or ""
    if not int_part and not frac:
        return None
    digits = re.sub("[^0-9]", "", int_part) or "0"
    value = Decimal(f"{digits}.{frac}" if frac else digits)
    return -value if match.group("sign") == "-" else value
