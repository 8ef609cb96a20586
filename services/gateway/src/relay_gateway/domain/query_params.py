"""Query parameters: integers in ASCII digits within bounds (``"²"`` or ``"1e9"`` are not)."""

from __future__ import annotations

import re
from typing import Final

_ASCII_INT: Final = re.compile(r"^[0-9]{1,12}$")
INT32_MAX: Final = 2**31 - 1


def bounded_int(raw: str, low: int, high: int) -> int | None:
    """``raw`` as an int within [low, high], None when it is not one."""
    if not _ASCII_INT.match(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None
