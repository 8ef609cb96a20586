"""The allocation formula and the products a merged feed produces."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from relay_insights.domain.allocation import allocate, channel_quantity
from relay_insights.domain.merged_feed import MergedOffer
from relay_insights.domain.products import Product
from relay_shared.channel_config import AllocationConfig, ChannelConfig

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("merged", "share", "buffer", "max_qty", "expected"),
    [
        (10, "100", 0, None, 10),
        (10, "100", 2, None, 8),
        (10, "50", 0, None, 5),
        (9, "50", 0, None, 4),  # floor(4.5)
        (9, "33.5", 0, None, 3),  # floor(3.015)
        (3, "50", 2, None, 0),  # floor(1.5) - 2 < 0
        (100, "100", 0, 25, 25),
        (100, "10", 1, 25, 9),
        (0, "100", 0, None, 0),
        (0, "100", 0, 0, 0),
        (-5, "100", 0, None, 0),
        (7, "0", 0, None, 0),
    ],
)
def test_channel_quantity(
    merged: int, share: str, buffer: int, max_qty: int | None, expected: int
) -> None:
    allocation = AllocationConfig(share_pct=Decimal(share), buffer=buffer, max_qty=max_qty)
    assert channel_quantity(merged, allocation) == expected


def test_allocate_lists_new_products_and_updates_existing_ones() -> None:
    channels = {
        "amazon": ChannelConfig(allocation=AllocationConfig(buffer=2)),
        "ebay": ChannelConfig(allocation=AllocationConfig(share_pct=Decimal(50), max_qty=3)),
        "woot": ChannelConfig(enabled=False),
    }
    offers = [
        MergedOffer("A-1", 10, "Widget", Decimal("12.00")),
        MergedOffer("B-2", 1, None, None),
    ]
    existing = Product("amazon", "A-1", "Old", Decimal("9.00"), 1, "paused", T0, T0)
    kept = Product("amazon", "B-2", "Keep", Decimal("4.00"), 5, "active", T0, None)
    found = {existing.key: existing, kept.key: kept}

    assert allocate(offers, channels, found, T1) == [
        Product("amazon", "A-1", "Widget", Decimal("12.00"), 8, "paused", T0, T0),
        Product("amazon", "B-2", "Keep", Decimal("4.00"), 0, "active", T0, None),
        Product("ebay", "A-1", "Widget", Decimal("12.00"), 3, "active", T1, None),
        Product("ebay", "B-2", None, None, 0, "active", T1, None),
    ]
