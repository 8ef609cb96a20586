"""Reading the merged inventory csv that pricing writes (``merged_inventory.csv``).

Only ``sku`` and ``quantity_available`` are required; ``title`` and ``price`` are used when the
tenant's ``output.columns`` include them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

REQUIRED_COLUMNS = ("sku", "quantity_available")


@dataclass(frozen=True)
class MergedOffer:
    sku: str
    quantity: int
    title: str | None
    price: Decimal | None


class MergedFeedError(ValueError):
    """The merged csv cannot be read (missing column, bad number, repeated sku)."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message if row is None else f"row {row}: {message}")
        self.row = row


def parse_merged_csv(data: bytes) -> list[MergedOffer]:
    """The offers of a merged csv, in file order; row numbers in errors count the header as 1."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MergedFeedError("the merged feed is not UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise MergedFeedError(f"the merged feed has no column {', '.join(missing)}")
    offers: list[MergedOffer] = []
    seen: set[str] = set()
    for row_number, row in enumerate(reader, start=2):
        offer = _offer(row, row_number)
        if offer.sku in seen:
            raise MergedFeedError(f"sku {offer.sku!r} appears twice", row=row_number)
        seen.add(offer.sku)
        offers.append(offer)
    return offers


def _offer(row: dict[str, str | None], row_number: int) -> MergedOffer:
    sku = (row.get("sku") or "").strip()
    if not sku:
        raise MergedFeedError("empty sku", row=row_number)
    return MergedOffer(
        sku=sku,
        quantity=_quantity(row.get("quantity_available"), row_number),
        title=(row.get("title") or "").strip() or None,
        price=_price(row.get("price"), row_number),
    )


def _quantity(raw: str | None, row_number: int) -> int:
    text = (raw or "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError as exc:
        raise MergedFeedError(
            f"quantity_available {text!r} is not a whole number", row=row_number
        ) from exc
    return max(value, 0)


def _price(raw: str | None, row_number: int) -> Decimal | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise MergedFeedError(f"price {text!r} is not a number", row=row_number) from exc
    if not value.is_finite():
        raise MergedFeedError(f"price {text!r} is not a number", row=row_number)
    return value
