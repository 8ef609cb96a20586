"""Channel quantities from a merged feed.

Each enabled channel gets ``min(max_qty, max(0, floor(merged_qty × share_pct / 100) − buffer))``
of every merged sku (:meth:`AllocationConfig.channel_quantity`, shared with the sheets
service so both show the same number). The rule runs once per distinct merged quantity and
channel (a feed of a million skus has a few thousand quantities), and the products take
their quantity from that table in one set-based statement
(:meth:`relay_insights.adapters.database.TenantUnit.apply_merged_offers`): an existing product
keeps its status, listing date and last sale, its title and price follow the feed when the feed
has them; a new one is listed at the feed's time, active. A sku missing from a merged feed
keeps its last quantity: a vendor file that failed or was skipped must not zero (and so pause)
every listing it feeds; its products are corrected by the next feed that carries them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from relay_shared.channel_config import AllocationConfig, ChannelConfig


@dataclass(frozen=True)
class ChannelQuantity:
    """``channel`` lists ``quantity`` of a sku the merged feed has ``merged_quantity`` of."""

    channel: str
    merged_quantity: int
    quantity: int


def channel_quantity(merged_qty: int, allocation: AllocationConfig) -> int:
    return allocation.channel_quantity(merged_qty)


def channel_quantities(
    merged_quantities: Iterable[int], channels: Mapping[str, ChannelConfig]
) -> list[ChannelQuantity]:
    """Every enabled channel's quantity for each of the feed's distinct quantities."""
    distinct = sorted(set(merged_quantities))
    return [
        ChannelQuantity(name, merged, channel_quantity(merged, channel.allocation))
        for name, channel in channels.items()
        if channel.enabled
        for merged in distinct
    ]
