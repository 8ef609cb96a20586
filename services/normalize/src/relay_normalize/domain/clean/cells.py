"""The per-cell rules: one raw cell in, its clean value out (the reference semantics).

The field rules (:mod:`.fields`) clean every cell outside a field's fast shape with these
(:mod:`.dirty_rows` runs them) and derive some shapes from them (the condition words), so
these are the rules. Each takes the cell as cleaned by :func:`with_default` (trimmed, or the
config default when empty) and returns the clean value, raising :class:`CellRejected` with
the rejection code.

Decisions where the spec is silent:
- money: a number with a wrong currency marker is ``currency_mismatch`` even when it is
  negative; text that is not a number is ``invalid_money`` whatever its marker.
- quantity words and ``condition_map`` keys compare case-insensitively after trimming.
- a quantity written ``> -3`` is read as negative (0 with a warning).
- numbers too large for any inventory are rejected with the field's code: a quantity above
  10^15, an amount above 10^13 (in currency units), a lead time above 10^9 days.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from relay_normalize.domain.clean.numbers import parse_number
from relay_normalize.domain.text_cells import WHITESPACE, trim
from relay_shared.run_reports import format_utc

_WS = "[" + re.escape(WHITESPACE) + "]*"
_AT_LEAST_PREFIX = re.compile(rf">=?{_WS}(?P<n>.+)", re.DOTALL)
_MONEY = re.compile(
    rf"(?:(?P<pre>[$€£]|[A-Za-z]{{3}}){_WS})?(?P<num>.*?)(?:{_WS}(?P<post>[$€£]|[A-Za-z]{{3}}))?",
    re.DOTALL,
)
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_LEAD = re.compile(rf"(?P<n>[0-9]+){_WS}(?P<unit>d|days?|w|wks?|weeks?)?", re.IGNORECASE)
_CENT = Decimal("0.01")

BUILTIN_CONDITIONS: dict[str, str] = {
    "new": "new",
    "n": "new",
    "brand new": "new",
    "used": "used",
    "pre-owned": "used",
    "preowned": "used",
    "refurb": "refurb",
    "refurbished": "refurb",
    "renewed": "refurb",
    "reconditioned": "refurb",
}
MAX_QUANTITY = 10**15
MAX_CENTS = 10**15
MAX_LEAD_DAYS = 10**9


def with_default(cell: str | None, default: str | None) -> str:
    """The trimmed cell, or the (trimmed) config default when it is empty."""
    text = trim(cell)
    return text if text else trim(default)


class CellRejected(ValueError):
    """A cell that rejects its row; ``code`` is the rejection code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_quantity(
    text: str | None, *, words: Mapping[str, int], decimal_separator: str
) -> tuple[int, str | None]:
    """``(quantity, warning_code)``: words, ``>N``/``>=N``/``N+`` = N, negative → 0 + warning."""
    cell = trim(text)
    lowered = cell.lower()
    for word, number in words.items():
        if trim(word).lower() == lowered:
            return number, None
    if not cell:
        raise CellRejected("invalid_quantity")
    prefix = _AT_LEAST_PREFIX.fullmatch(cell)
    if prefix is not None:
        cell = prefix.group("n")
    elif cell.endswith("+") and len(cell) > 1:
        cell = trim(cell[:-1])
    value = parse_number(cell, decimal_separator)
    if value is None or value != value.to_integral_value():
        raise CellRejected("invalid_quantity")
    if value < 0:
        return 0, "negative_quantity"
    if value > MAX_QUANTITY:
        raise CellRejected("invalid_quantity")
    return int(value), None


def parse_money_cents(text: str | None, *, currency: str, decimal_separator: str) -> int | None:
    """Integer cents, half-up from more decimals; empty → ``None``."""
    cell = trim(text)
    if not cell:
        return None
    match = _MONEY.fullmatch(cell)
    if match is None:  # the pattern matches any text; kept for the type checker
        raise CellRejected("invalid_money")
    pre, post = match.group("pre"), match.group("post")
    value = parse_number(match.group("num"), decimal_separator)
    if value is None or (pre is not None and post is not None):
        raise CellRejected("invalid_money")
    marker = pre or post
    if marker is not None and _SYMBOLS.get(marker, marker.upper()) != currency:
        raise CellRejected("currency_mismatch")
    if value < 0 or value > MAX_CENTS // 100:
        raise CellRejected("invalid_money")
    return int(value.quantize(_CENT, rounding=ROUND_HALF_UP) * 100)


def parse_lead_time(text: str | None) -> int | None:
    """Days: ``2``, ``2 days``, ``1w`` (= 7); empty → ``None``."""
    cell = trim(text)
    if not cell:
        return None
    match = _LEAD.fullmatch(cell)
    if match is None:
        raise CellRejected("invalid_lead_time")
    unit = (match.group("unit") or "d").lower()
    days = int(match.group("n")) * (7 if unit.startswith("w") else 1)
    if days > MAX_LEAD_DAYS:
        raise CellRejected("invalid_lead_time")
    return days


def parse_condition(text: str | None, *, condition_map: Mapping[str, str]) -> str:
    """``new`` | ``used`` | ``refurb``; the vendor's words win over the built-in ones.

    An empty cell is replaced by ``parser.defaults.condition`` before this is called; still
    empty means ``new``.
    """
    cell = trim(text).lower()
    if not cell:
        return "new"
    for word, condition in condition_map.items():
        if trim(word).lower() == cell:
            return condition
    if cell in BUILTIN_CONDITIONS:
        return BUILTIN_CONDITIONS[cell]
    raise CellRejected("invalid_condition")


def parse_timestamp(text: str | None, *, zone: ZoneInfo, as_of: datetime) -> tuple[str, bool]:
    """``(utc_text, is_invalid)``: ISO-8601 in UTC, seconds only; empty → as-of."""
    cell = trim(text)
    if not cell:
        return format_utc(as_of), False
    try:
        moment = datetime.fromisoformat(cell)
    except ValueError:
        return format_utc(as_of), True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return format_utc(moment.replace(microsecond=0)), False
    except OverflowError:
        return format_utc(as_of), True
