"""A channel's listings file: parsing and validation (pure: bytes in, typed rows out).

The file is CSV (UTF-8, optional BOM; comma, semicolon or tab, chosen from the header line)
or XLSX (the first sheet; cached values, read with openpyxl in read-only mode after the zip
directory was checked the way normalize checks a feed: a zip bomb is refused before anything
is unpacked). The first non-blank record is the header; headers are matched trimmed and
case-insensitively (``" Listed Date "`` is not ``listed_date``, ``" LISTED_DATE "`` is);
unknown columns are ignored; blank records are skipped.

Columns: ``sku`` (required column, non-blank, at most 200 characters, unique), ``quantity``
(required column: a whole number ≥ 0), ``title`` (optional, at most 1,000 characters),
``status`` (optional: active | paused | delisted, any case; blank → active),
``listed_date`` (optional: ``YYYY-MM-DD`` or an ISO date-time, whose date is kept; blank →
unknown).

Every problem is collected as a :class:`ListingProblem` (row, column, message) and raised
together in one :class:`ListingsError`: row 1 is the header, data rows are numbered by
record (CSV) or sheet row (XLSX); ``row`` is None for a problem of the whole file. A file
too large, too wide or too long stops the reading at once (its one problem says why).
The canonical form (:func:`canonical_csv`) is deterministic: the five columns, rows sorted
by sku, ``\\n`` line ends; the key (:func:`listings_key`) names it by its sha256.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, Literal, cast

from relay_shared.xlsx_reading import (
    BROKEN_WORKBOOK,
    UnreadableWorkbookError,
    cell_text,
    whole_part_bytes,
    zip_parts,
)

ListingStatus = Literal["active", "paused", "delisted"]
LISTING_COLUMNS = ("sku", "title", "quantity", "status", "listed_date")
LISTING_STATUSES: tuple[ListingStatus, ...] = ("active", "paused", "delisted")
REQUIRED_COLUMNS = ("sku", "quantity")
MAX_SKU_CHARS = 200
MAX_TITLE_CHARS = 1_000
MAX_QUANTITY = 1_000_000_000

_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class ListingsLimits:
    """Bounds on one listings file: its bytes, the bytes its XLSX parts unpack to (and the
    parts parsed whole), data rows, columns, and the problems listed (the rest are counted)."""

    max_bytes: int = 64 * 1024 * 1024
    max_unpacked_bytes: int = 512 * 1024 * 1024
    max_whole_part_bytes: int = 64 * 1024 * 1024
    max_zip_entries: int = 1_000
    max_rows: int = 1_000_000
    max_columns: int = 200
    max_problems: int = 1_000


DEFAULT_LIMITS = ListingsLimits()


@dataclass(frozen=True, slots=True)
class ListingProblem:
    """One problem: the row (1 = header; None = the whole file), the column (None = the
    whole row or file) and what is wrong."""

    row: int | None
    column: str | None
    message: str


class ListingsError(ValueError):
    """A listings file that cannot be imported: every problem found (up to
    ``max_problems``; ``more`` counts the rest)."""

    def __init__(self, problems: Sequence[ListingProblem], more: int = 0) -> None:
        self.problems: tuple[ListingProblem, ...] = tuple(problems)
        self.more = more
        first = self.problems[0] if self.problems else None
        summary = f"{len(self.problems) + more} problem(s) in the listings file"
        if first is not None:
            where = f"row {first.row}" if first.row is not None else "the file"
            column = f", column {first.column}" if first.column else ""
            summary += f"; first: {where}{column}: {first.message}"
        super().__init__(summary)


@dataclass(frozen=True, slots=True)
class Listing:
    """One listed product of a channel."""

    sku: str
    title: str
    quantity: int
    status: ListingStatus
    listed_date: date | None


@dataclass(frozen=True, slots=True)
class Listings:
    """A validated listings file: its listings sorted by sku."""

    items: tuple[Listing, ...]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Listing]:
        return iter(self.items)


def listings_key(tenant_id: str, channel: str, sha256: str) -> str:
    """Where the canonical CSV of a channel's listings lives (named by its sha256)."""
    return f"tenants/{tenant_id}/listings/{channel}/{sha256}.csv"


def canonical_csv(listings: Listings) -> bytes:
    """The deterministic CSV of ``listings``: header ``sku,title,quantity,status,listed_date``,
    rows sorted by sku, ``\\n`` line ends, a blank listed_date when unknown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LISTING_COLUMNS)
    for item in sorted(listings.items, key=lambda listing: listing.sku):
        listed = item.listed_date.isoformat() if item.listed_date else ""
        writer.writerow((item.sku, item.title, item.quantity, item.status, listed))
    return out.getvalue().encode("utf-8")


def parse_listings(data: bytes, limits: ListingsLimits = DEFAULT_LIMITS) -> Listings:
    """The listings of a CSV or XLSX file (told apart by the zip signature).
    ``ListingsError`` with every problem."""
    if len(data) > limits.max_bytes:
        raise _whole_file(f"the file has {len(data)} bytes, above the limit of {limits.max_bytes}")
    if data.startswith(_ZIP_MAGIC):
        return _parse_xlsx(data, limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _whole_file(f"the file is neither XLSX nor UTF-8 text (byte {exc.start})") from exc
    return parse_listing_rows(_csv_records(text), limits)


def parse_listing_rows(
    records: Iterable[tuple[int, Sequence[object]]], limits: ListingsLimits = DEFAULT_LIMITS
) -> Listings:
    """The listings of ``(row number, cells)`` records whose first non-blank one is the
    header (for a sheet read cell by cell, e.g. the merchant's spreadsheet). Cells may be
    text, numbers, dates or None. ``ListingsError`` with every problem."""
    collector = _Collector(limits)
    columns: dict[str, int] | None = None
    seen: dict[str, int] = {}
    listings: list[Listing] = []
    count = 0
    for number, raw in records:
        if len(raw) > limits.max_columns:
            what = "the header" if columns is None else f"row {number}"
            raise _whole_file(
                f"{what} has {len(raw)} columns, above the limit of {limits.max_columns}", number
            )
        cells = [cell_text(value) for value in raw]
        if not any(cell and cell.strip() for cell in cells):
            continue
        if columns is None:
            columns = _header(cells, collector)
            continue
        count += 1
        if count > limits.max_rows:
            raise _whole_file(f"more than the limit of {limits.max_rows} rows", number)
        listing = _row(number, cells, columns, collector, seen)
        if listing is not None:
            listings.append(listing)
    if columns is None:
        collector.add(None, None, "the file has no header row")
    collector.raise_if_any()
    return Listings(tuple(sorted(listings, key=lambda listing: listing.sku)))


class _Collector:
    def __init__(self, limits: ListingsLimits) -> None:
        self._limits = limits
        self.problems: list[ListingProblem] = []
        self.more = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.problems) < self._limits.max_problems:
            self.problems.append(ListingProblem(row, column, message))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.problems:
            raise ListingsError(self.problems, self.more)


def _whole_file(message: str, row: int | None = None) -> ListingsError:
    return ListingsError([ListingProblem(row, None, message)])


def _header(cells: Sequence[str | None], collector: _Collector) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = (cell or "").strip().lower()
        if name in LISTING_COLUMNS:
            if name in columns:
                where = f"columns {columns[name] + 1} and {index + 1}"
                collector.add(1, name, f"the column appears twice ({where})")
            else:
                columns[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            collector.add(1, name, "missing column")
    return columns


def _row(
    number: int,
    cells: Sequence[str | None],
    columns: dict[str, int],
    collector: _Collector,
    seen: dict[str, int],
) -> Listing | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        if index is None or index >= len(cells):
            return ""
        return (cells[index] or "").strip()

    before = len(collector.problems) + collector.more
    sku = _sku(number, cell("sku"), "sku" in columns, collector, seen)
    title = cell("title")
    if len(title) > MAX_TITLE_CHARS:
        collector.add(number, "title", f"longer than {MAX_TITLE_CHARS} characters")
    quantity = _quantity(number, cell("quantity"), "quantity" in columns, collector)
    status = _status(number, cell("status"), collector)
    listed = _listed_date(number, cell("listed_date"), collector)
    if len(collector.problems) + collector.more > before or sku is None or quantity is None:
        return None
    return Listing(sku, title, quantity, cast(ListingStatus, status), listed)


def _sku(
    number: int, sku: str, present: bool, collector: _Collector, seen: dict[str, int]
) -> str | None:
    if not present:
        return None  # reported once, on the header
    if not sku:
        collector.add(number, "sku", "is blank")
        return None
    if len(sku) > MAX_SKU_CHARS:
        collector.add(number, "sku", f"longer than {MAX_SKU_CHARS} characters")
        return None
    first = seen.setdefault(sku, number)
    if first != number:
        collector.add(number, "sku", f"duplicate sku {sku[:100]!r} (first on row {first})")
        return None
    return sku


def _quantity(number: int, text: str, present: bool, collector: _Collector) -> int | None:
    if not present:
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,12}", text):
        shown = f"{text[:50]!r}" if text else "blank"
        collector.add(number, "quantity", f"must be a whole number ≥ 0 (got {shown})")
        return None
    value = int(text)
    if value < 0:
        collector.add(number, "quantity", f"must not be negative (got {value})")
        return None
    if value > MAX_QUANTITY:
        collector.add(number, "quantity", f"above the limit of {MAX_QUANTITY} (got {value})")
        return None
    return value


def _status(number: int, text: str, collector: _Collector) -> str | None:
    if not text:
        return "active"
    status = text.lower()
    if status not in LISTING_STATUSES:
        collector.add(
            number, "status", f"must be one of {', '.join(LISTING_STATUSES)} (got {text[:50]!r})"
        )
        return None
    return status


def _listed_date(number: int, text: str, collector: _Collector) -> date | None:
    if not text:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return date.fromisoformat(text)
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.+\-Z]{2,40}", text):
            return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    collector.add(number, "listed_date", f"must be a date YYYY-MM-DD (got {text[:50]!r})")
    return None


def _csv_records(text: str) -> Iterator[tuple[int, Sequence[object]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise _whole_file(f"the CSV cannot be read: {exc}", reader.line_num) from exc


def _parse_xlsx(data: bytes, limits: ListingsLimits) -> Listings:
    from openpyxl import load_workbook  # imported here: it costs 0.25 s at start-up
    from openpyxl.utils.exceptions import InvalidFileException

    handle = io.BytesIO(data)
    _check_archive(handle, limits)
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except (InvalidFileException, OSError, *BROKEN_WORKBOOK) as exc:
        raise _whole_file("not a readable XLSX workbook") from exc
    try:
        if not book.worksheets:
            raise _whole_file("the workbook has no sheet")
        sheet: Any = book.worksheets[0]
        sheet.reset_dimensions()  # a declared dimension must not pad every row to its width
        return parse_listing_rows(_sheet_records(sheet), limits)
    finally:
        book.close()


def _sheet_records(sheet: Any) -> Iterator[tuple[int, Sequence[object]]]:
    try:
        # openpyxl fills missing rows, so the position is the sheet row number
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    except BROKEN_WORKBOOK as exc:
        raise _whole_file(f"the sheet cannot be read: {type(exc).__name__}") from exc


def _check_archive(handle: IO[bytes], limits: ListingsLimits) -> None:
    """Checks the zip's directory before anything is unpacked (a zip bomb is refused)."""
    try:
        parts = zip_parts(handle)
    except UnreadableWorkbookError as exc:
        raise _whole_file(str(exc)) from exc
    if len(parts) > limits.max_zip_entries:
        raise _whole_file(
            f"the workbook has {len(parts)} parts, above the limit of {limits.max_zip_entries}"
        )
    unpacked = sum(size for _, size in parts)
    if unpacked > limits.max_unpacked_bytes:
        raise _whole_file(
            f"the workbook unpacks to {unpacked} bytes, above the limit of"
            f" {limits.max_unpacked_bytes}"
        )
    whole = whole_part_bytes(parts)
    if whole > limits.max_whole_part_bytes:
        raise _whole_file(
            f"the workbook's shared parts unpack to {whole} bytes, above the limit of"
            f" {limits.max_whole_part_bytes}"
        )
