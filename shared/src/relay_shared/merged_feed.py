"""The merged inventory (``merged_inventory.csv``) pricing writes, and its one reader.

The file holds the tenant's ``output.columns``: ``sku`` and ``quantity_available`` always
(the reader refuses a file without them), the others as configured. Read back, a cell is
typed by its column: quantities and lead times (:data:`WHOLE_NUMBER_COLUMNS`) are integers,
money (:data:`~relay_shared.tenant_config.models.OUTPUT_MONEY_COLUMNS`) a finite
:class:`~decimal.Decimal`, anything else trimmed text; an empty cell is ``None``. A row's
number counts the header as row 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from relay_shared.tenant_config.models import OUTPUT_MONEY_COLUMNS

REQUIRED_COLUMNS = ("sku", "quantity_available")
# Whole numbers in every file the engine writes (the normalized CSVs too).
WHOLE_NUMBER_COLUMNS = frozenset({"quantity_available", "lead_time_days"})

MergedCell = str | int | Decimal | None


class MergedFeedError(ValueError):
    """The merged csv cannot be read (not UTF-8, a required column missing, a bad number);
    the services that read it also raise it for what they refuse (an empty or repeated sku)."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message if row is None else f"row {row}: {message}")
        self.row = row


@dataclass(frozen=True)
class MergedFeed:
    """A merged inventory as read: the columns kept, in file order, and each row's cells."""

    columns: tuple[str, ...]
    rows: list[dict[str, MergedCell]]

    @staticmethod
    def row_number(index: int) -> int:
        """The file's row number of ``rows[index]`` (the header is row 1)."""
        return index + 2


def read_merged_feed(data: bytes, columns: Collection[str] | None = None) -> MergedFeed:
    """The merged csv's rows, in file order; with ``columns``, only those of its columns (a
    cell of another column is not even looked at)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MergedFeedError("the merged feed is not UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise MergedFeedError(f"the merged feed has no column {', '.join(missing)}")
    kept = tuple(name for name in header if columns is None or name in columns)
    rows = [
        {name: typed_cell(name, raw.get(name), number) for name in kept}
        for number, raw in enumerate(reader, start=MergedFeed.row_number(0))
    ]
    return MergedFeed(kept, rows)


def typed_cell(column: str, raw: str | None, row: int) -> MergedCell:
    """One cell of ``column`` as the reader types it (``row``: its number, for the error)."""
    text = (raw or "").strip()
    if not text:
        return None
    if column in WHOLE_NUMBER_COLUMNS:
        try:
            return int(text)
        except ValueError as exc:
            raise MergedFeedError(f"{column} {text!r} is not a whole number", row=row) from exc
    if column in OUTPUT_MONEY_COLUMNS:
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise MergedFeedError(f"{column} {text!r} is not a number", row=row) from exc
        if not value.is_finite():
            raise MergedFeedError(f"{column} {text!r} is not a number", row=row)
        return value
    return text
