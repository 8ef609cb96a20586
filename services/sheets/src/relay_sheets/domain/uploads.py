"""A spreadsheet the merchant put in a channel folder, checked before it is read as that
channel's listings (pure).

``relay_shared.listings.parse_listing_rows`` checks the columns and every row (a sku column,
matched trimmed and case-insensitively; blank or duplicate skus; quantities...). What only a
spreadsheet can hold is checked here first, on the sku column: a formula (its value could
change under us: the merchant must type the sku), or merged cells (one value shown for many
rows). A sheet longer than ``max_rows`` data rows is refused whole: a listing sheet is read
whole at every change, and a catalogue that large belongs in ``PUT …/listings``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from relay_shared.listings import ListingProblem

SKU = "sku"
MAX_PROBLEMS_SHOWN = 5


def sku_column(rows: Sequence[Sequence[Any]]) -> tuple[int, int] | None:
    """(header row index, sku column index) of the first non-blank row, when it names one."""
    for index, row in enumerate(rows):
        if not any(str(cell).strip() for cell in row if cell is not None):
            continue
        for column, cell in enumerate(row):
            if isinstance(cell, str) and cell.strip().lower() == SKU:
                return index, column
        return None
    return None


def sheet_problems(
    rows: Sequence[Sequence[Any]], merges: Sequence[Mapping[str, int]], max_rows: int
) -> list[ListingProblem]:
    """Problems of the sku column (``rows`` read with formulas shown, e.g. ``=A1&"x"``) and of
    the sheet's length; an empty list when none (the rows are then parsed)."""
    data_rows = sum(1 for row in rows if any(str(c).strip() for c in row if c is not None)) - 1
    if data_rows > max_rows:
        message = (
            f"the sheet has {data_rows:,} data rows, above the limit of {max_rows:,} for a"
            " listing sheet (import larger catalogues with PUT /v1/tenants/{id}/channels/"
            "{channel}/listings)"
        )
        return [ListingProblem(None, None, message)]
    found = sku_column(rows)
    if found is None:
        return []
    header, column = found
    problems = []
    for index in range(header + 1, len(rows)):
        row = rows[index]
        cell = row[column] if column < len(row) else None
        if isinstance(cell, str) and cell.startswith("="):
            problems.append(
                ListingProblem(index + 1, SKU, f"is a formula ({cell[:60]}): type the sku as text")
            )
    for merge in merges:
        first, last = merge.get("startColumnIndex", 0), merge.get("endColumnIndex", 0)
        top, bottom = merge.get("startRowIndex", 0), merge.get("endRowIndex", 0)
        if first <= column < last and bottom - top > 1:
            problems.append(
                ListingProblem(
                    top + 1, SKU, f"merged cells (rows {top + 1} to {bottom}): unmerge them"
                )
            )
    return problems


def records(rows: Sequence[Sequence[Any]]) -> Iterator[tuple[int, Sequence[object]]]:
    """The rows as ``parse_listing_rows`` reads them (1-based row numbers)."""
    return iter(enumerate(rows, start=1))


def summary(problems: Sequence[ListingProblem], more: int = 0) -> str:
    """The first problems as one line: ``row 3, sku: duplicate sku 'A-1' (first on row 2); …``."""
    parts = []
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        where = "the sheet" if problem.row is None else f"row {problem.row}"
        column = f", {problem.column}" if problem.column else ""
        parts.append(f"{where}{column}: {problem.message}")
    rest = len(problems) - len(parts) + more
    if rest > 0:
        parts.append(f"and {rest} more")
    return "; ".join(parts)


def next_scan_cursor(since: str, read: Sequence[str], retry: Sequence[str]) -> str:
    """Where a folder's next scan starts (``modifiedTime > cursor``): past every file read
    (``read``: their modified times) but never past one that must be read again (``retry``:
    Google was unavailable), so the next scan lists it again (files at or after it that
    were read are listed again too, and skipped as unchanged)."""
    first_retry = min(retry, default=None)
    done = [at for at in read if first_retry is None or at < first_retry]
    return max([since, *done])
