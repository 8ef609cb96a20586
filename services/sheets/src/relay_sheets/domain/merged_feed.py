"""The merged inventory csv as sheet rows: quantities as whole numbers, money as numbers,
everything else as text (empty → blank cell)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from relay_shared.tenant_config.models import OUTPUT_MONEY_COLUMNS
from relay_sheets.domain.grid import Cell

WHOLE_NUMBER_COLUMNS = frozenset({"quantity_available", "lead_time_days"})


class MergedFeedError(ValueError):
    """The merged csv cannot be shown (no sku or quantity column, a bad number)."""


@dataclass(frozen=True)
class MergedFeed:
    columns: tuple[str, ...]
    rows: list[dict[str, Cell]]


def parse_merged_feed(data: bytes) -> MergedFeed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MergedFeedError("the merged feed is not UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = tuple(reader.fieldnames or ())
    for required in ("sku", "quantity_available"):
        if required not in columns:
            raise MergedFeedError(f"the merged feed has no column {required}")
    rows = []
    for number, raw in enumerate(reader, start=2):
        rows.append({name: _cell(name, raw.get(name), number) for name in columns})
    return MergedFeed(columns, rows)


def _cell(column: str, raw: str | None, row: int) -> Cell:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if column in WHOLE_NUMBER_COLUMNS:
            return int(text)
        if column in OUTPUT_MONEY_COLUMNS:
            return float(Decimal(text))
    except (ValueError, InvalidOperation) as exc:
        raise MergedFeedError(f"row {row}: {column} {text!r} is not a number") from exc
    return text
