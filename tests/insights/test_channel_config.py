"""The channels, insights and sheets sections of a tenant config."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from relay_shared.channel_config import (
    AllocationConfig,
    ChannelActions,
    ChannelConfig,
    InsightsConfig,
    SheetsConfig,
    parse_channel_sections,
)
from relay_shared.tenant_config import ConfigError, parse_tenant_config


def config(**sections: Any) -> Any:
    return parse_tenant_config(
        {
            "tenant_id": "t1",
            "vendors": [
                {
                    "vendor_id": "v1",
                    "parser": {"column_map": {"sku": "s", "quantity_available": "q"}},
                }
            ],
            "pricing": {"base_margin_pct": 0.2},
            **sections,
        }
    )


def test_defaults_when_the_sections_are_absent() -> None:
    sections = parse_channel_sections(config())

    assert sections.channels == {}
    assert sections.insights == InsightsConfig(
        slow_after_days=30,
        aged_after_days=180,
        purge_resolved_after_days=90,
        max_new_per_channel_per_day=50,
        evaluate_daily_at="06:00",
    )
    assert sections.sheets == SheetsConfig(backend="xlsx", google=None)


def test_the_spec_example_parses() -> None:
    sections = parse_channel_sections(
        config(
            channels={
                "amazon": {
                    "enabled": True,
                    "allocation": {"share_pct": 100, "buffer": 2, "max_qty": None},
                    "insights": ["out_of_stock", "slow_mover", "aged", "reallocation_candidate"],
                    "actions": {
                        "out_of_stock": "pause",
                        "slow_mover": {"reprice_pct": -5, "floor": "map"},
                        "reallocation": "push",
                    },
                    "dry_run": True,
                },
                "ebay": {"enabled": False},
            },
            sheets={
                "backend": "google",
                "google": {"shared_drive_id": "d1", "share_with": ["a@b.c"]},
            },
        )
    )

    amazon = sections.channels["amazon"]
    assert amazon.allocation == AllocationConfig(share_pct=Decimal(100), buffer=2, max_qty=None)
    assert amazon.actions.out_of_stock == "pause"
    assert amazon.actions.slow_mover is not None
    assert amazon.actions.slow_mover.reprice_pct == Decimal(-5)
    assert list(sections.enabled_channels()) == ["amazon"]
    assert sections.channels["ebay"] == ChannelConfig(
        enabled=False, allocation=AllocationConfig(), insights=[], actions=ChannelActions()
    )


@pytest.mark.parametrize(
    ("sections", "problems"),
    [
        (
            {"channels": {"amazon": {"allocation": {"share_pct": 150, "bufer": 1}}}},
            [
                "channels.amazon.allocation.share_pct: Input should be less than or equal to 100",
                "channels.amazon.allocation.bufer: unknown key",
            ],
        ),
        (
            {
                "channels": {
                    "amazon": {"insights": ["aged", "aged"], "actions": {"out_of_stock": "x"}}
                }
            },
            [
                "channels.amazon.insights: a kind must not be listed twice",
                "channels.amazon.actions.out_of_stock: Input should be 'pause', 'delist' or 'none'",
            ],
        ),
        (
            {"insights": {"evaluate_daily_at": "6am", "slow_after_days": 0}},
            [
                "insights.slow_after_days: Input should be greater than or equal to 1",
                "insights.evaluate_daily_at: must be a time of day HH:MM (24-hour)",
            ],
        ),
        ({"sheets": {"backend": "google"}}, ["sheets.google: is required for the google backend"]),
        (
            {"channels": {"Amazon UK": {}}},
            ["channels.Amazon UK: a channel name is a-z, 0-9, _ or - (starting a-z)"],
        ),
    ],
)
def test_problems_are_listed_by_path(sections: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_channel_sections(config(**sections))
    assert [str(problem) for problem in caught.value.problems] == problems
