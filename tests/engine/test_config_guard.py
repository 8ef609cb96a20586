"""Guarded activation: the ``guard`` section and which limits a preview's diff exceeds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from relay_gateway.domain.config_guard import Breach, guard_breaches, measured
from relay_pricing.domain.changes import read_feed_text
from relay_pricing.domain.feed_diff import feed_diff
from relay_shared.feed_diff import FeedDiff
from relay_shared.tenant_config import ConfigError, GuardConfig, parse_tenant_config

from .engine_support import config_data

# 8 SKUs before: A loses 25 % of its price, B goes out of stock, C comes back, D is removed
OLD = (
    b"sku,quantity_available,price\n"
    b"A,5,20.00\nB,3,10.00\nC,0,10.00\nD,1,5.00\nE,1,5.00\nF,1,5.00\nG,1,5.00\nH,1,5.00\n"
)
NEW = (
    b"sku,quantity_available,price\n"
    b"A,5,15.00\nB,0,10.00\nC,4,10.50\nE,1,5.00\nF,1,5.00\nG,1,5.00\nH,1,5.00\n"
)


def _diff() -> FeedDiff:
    return feed_diff(read_feed_text(OLD), read_feed_text(NEW))


def test_what_a_preview_moves_per_limit() -> None:
    assert measured(_diff()) == {
        "max_price_change_pct": Decimal("25.00"),
        "max_rows_removed_pct": Decimal("12.50"),
        "max_oos_flips_pct": Decimal("25.00"),
    }


def test_every_exceeded_limit_is_named_with_its_numbers() -> None:
    guard = GuardConfig(
        max_price_change_pct=Decimal(20),
        max_rows_removed_pct=Decimal("12.5"),
        max_oos_flips_pct=Decimal(10),
    )
    breaches = guard_breaches(guard, _diff())
    assert breaches == [
        Breach("max_price_change_pct", Decimal(20), Decimal("25.00")),
        Breach("max_oos_flips_pct", Decimal(10), Decimal("25.00")),
    ]
    assert [str(b) for b in breaches] == [
        "max_price_change_pct: 25.00 % > 20 %",
        "max_oos_flips_pct: 25.00 % > 10 %",
    ]


def test_no_guard_or_no_earlier_run_refuses_nothing() -> None:
    assert guard_breaches(None, _diff()) == []
    first_run = feed_diff(read_feed_text(b"sku,quantity_available,price\n"), read_feed_text(NEW))
    strict = GuardConfig(max_rows_removed_pct=Decimal(0), max_oos_flips_pct=Decimal(0))
    assert guard_breaches(strict, first_run) == []


def test_a_guard_section_is_validated_with_paths() -> None:
    config = parse_tenant_config(config_data(guard={"max_price_change_pct": 15}))
    assert config.guard == GuardConfig(max_price_change_pct=Decimal(15))
    with pytest.raises(ConfigError) as caught:
        parse_tenant_config(config_data(guard={"max_rows_removed_pct": 150, "max_oos": 1}))
    assert sorted(str(p) for p in caught.value.problems) == [
        "guard.max_oos: unknown key",
        "guard.max_rows_removed_pct: Input should be less than or equal to 100",
    ]
