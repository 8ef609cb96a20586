"""The merged inventory as insights reads it: one offer per sku.

Read with the shared reader (:mod:`relay_shared.merged_feed`), only the columns insights
uses: ``sku`` and ``quantity_available`` (required), ``title`` and ``price`` when the
tenant's ``output.columns`` include them. Insights also refuses an empty or repeated sku; an
empty quantity counts as 0 and a negative one as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from relay_shared.merged_feed import MergedCell, MergedFeed, MergedFeedError, read_merged_feed

OFFER_COLUMNS = frozenset({"sku", "quantity_available", "title", "price"})


@dataclass(frozen=True)
class MergedOffer:
    sku: str
    quantity: int
    title: str | None
    price: Decimal | None


def parse_merged_csv(data: bytes) -> list[MergedOffer]:
    """The offers of a merged csv, in file order; row numbers in errors count the header as 1."""
    feed = read_merged_feed(data, OFFER_COLUMNS)
    offers: list[MergedOffer] = []
    seen: set[str] = set()
    for index, row in enumerate(feed.rows):
        number = MergedFeed.row_number(index)
        offer = _offer(row, number)
        if offer.sku in seen:
            raise MergedFeedError(f"sku {offer.sku!r} appears twice", row=number)
        seen.add(offer.sku)
        offers.append(offer)
    return offers


def _offer(row: dict[str, MergedCell], number: int) -> MergedOffer:
    sku, quantity = row.get("sku"), row.get("quantity_available")
    title, price = row.get("title"), row.get("price")
    if not isinstance(sku, str):
        raise MergedFeedError("empty sku", row=number)
    return MergedOffer(
        sku=sku,
        quantity=max(quantity, 0) if isinstance(quantity, int) else 0,
        title=title if isinstance(title, str) else None,
        price=price if isinstance(price, Decimal) else None,
    )
