"""The bounds of a tenant config's values: which text encodings a feed may declare, and how
large a number or a text may be, so that no later arithmetic overflows or loses precision and
no decoder turns a small upload into gigabytes."""

from __future__ import annotations

import codecs
from decimal import Decimal
from typing import Annotated

from pydantic import StringConstraints

# The text encodings a feed may declare (Python codec names; aliases such as ``latin-1`` or
# ``UTF8`` resolve to these). Only codecs that turn bytes into text of about the same size.
TEXT_ENCODINGS: frozenset[str] = frozenset(
    {
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "ascii",
        "latin-1",
        "iso8859-2",
        "iso8859-15",
        "cp1250",
        "cp1251",
        "cp1252",
        "cp437",
        "cp850",
        "mac-roman",
        "shift_jis",
        "cp932",
        "euc_jp",
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "euc_kr",
        "cp949",
        "koi8-r",
    }
)
_TEXT_CODECS: frozenset[str] = frozenset(codecs.lookup(name).name for name in TEXT_ENCODINGS)
MAX_MONEY = Decimal("1000000000.00")
"""The largest amount in a config (a billion): its cents fit any Int64 sum of a feed."""
MAX_PCT = Decimal("100")
"""The largest margin: 100 (10,000 %)."""
MAX_HEADER_ROW = 1_000_000
MAX_DAYS = 36_500
MAX_QUANTITY = 1_000_000_000

Text = Annotated[str, StringConstraints(max_length=1_000)]


def is_text_encoding(name: str) -> bool:
    """True when ``name`` names one of :data:`TEXT_ENCODINGS` (or an alias of one)."""
    try:
        return codecs.lookup(name).name in _TEXT_CODECS
    except LookupError:
        return False


def check_bounded(value: str | int | None) -> None:
    """A text or whole-number value of a ``str | int`` field: at most 1,000 characters, or a
    whole number within a billion either way."""
    if isinstance(value, str) and len(value) > 1_000:
        raise ValueError("must be at most 1000 characters")
    if isinstance(value, int) and abs(value) > MAX_QUANTITY:
        raise ValueError(f"must be within {MAX_QUANTITY} either way")


def check_cents(value: Decimal | None) -> Decimal | None:
    """Money in config: not negative, at most two decimals, at most :data:`MAX_MONEY`."""
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError("must be a number")
    if value < 0:
        raise ValueError("must not be negative")
    if value > MAX_MONEY:
        raise ValueError(f"must be at most {MAX_MONEY}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("must have at most two decimals")
    return value
