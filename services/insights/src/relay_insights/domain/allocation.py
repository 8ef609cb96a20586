"""Channel quantities from a merged feed.

Each enabled channel gets ``min(max_qty, max(0, floor(merged_qty × share_pct / 100) − buffer))``
of every merged sku (:meth:`AllocationConfig.channel_quantity`, shared with the sheets
service so both show the same number). A sku missing from a merged feed keeps its last
quantity: a vendor file that failed or was skipped must not zero (and so pause) every listing
it feeds; its products are corrected by the next feed that carries them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from relay_insights.domain.merged_feed import MergedOffer
from relay_insights.domain.products import Product
from relay_shared.channel_config import AllocationConfig, ChannelConfig


def channel_quantity(merged_qty: int, allocation: AllocationConfig) -> int:
    return allocation.channel_quantity(merged_qty)


def allocate(
    offers: Sequence[MergedOffer],
    channels: Mapping[str, ChannelConfig],
    existing: Mapping[tuple[str, str], Product],
    as_of: datetime,
) -> list[Product]:
    """The products of every enabled channel after the feed: existing ones updated (title and
    price follow the feed when it has them), new ones listed ``as_of`` and active."""
    allocated: list[Product] = []
    for name, channel in channels.items():
        if not channel.enabled:
            continue
        for offer in offers:
            quantity = channel.allocation.channel_quantity(offer.quantity)
            current = existing.get((name, offer.sku))
            if current is None:
                allocated.append(_new_product(name, offer, quantity, as_of))
                continue
            allocated.append(
                replace(
                    current,
                    quantity=quantity,
                    title=offer.title if offer.title is not None else current.title,
                    price=offer.price if offer.price is not None else current.price,
                )
            )
    return allocated


def _new_product(channel: str, offer: MergedOffer, quantity: int, as_of: datetime) -> Product:
    return Product(
        channel=channel,
        sku=offer.sku,
        title=offer.title,
        price=offer.price,
        quantity=quantity,
        status="active",
        listed_date=as_of,
        last_sold_at=None,
    )
