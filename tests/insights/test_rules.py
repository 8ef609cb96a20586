"""The insight rules at their boundaries, and the transitions they cause."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from relay_insights.domain.products import Product
from relay_insights.domain.rules import (
    Condition,
    ReallocationTarget,
    conditions,
    is_aged,
    is_out_of_stock,
    is_slow_mover,
    reallocation_target,
)
from relay_insights.domain.transitions import (
    OpenInsight,
    Transition,
    insight_event,
    insight_id,
    plan_transitions,
)
from relay_shared.channel_config import InsightsConfig

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def product(
    channel: str = "amazon",
    quantity: int = 5,
    listed_days_ago: int = 0,
    sold_days_ago: int | None = None,
    status: str = "active",
    sku: str = "A",
) -> Product:
    return Product(
        channel=channel,
        sku=sku,
        title=None,
        price=None,
        quantity=quantity,
        status=status,  # type: ignore[arg-type]
        listed_date=NOW - listed_days_ago * DAY,
        last_sold_at=None if sold_days_ago is None else NOW - sold_days_ago * DAY,
    )


def test_out_of_stock_is_an_active_or_paused_product_at_zero() -> None:
    assert is_out_of_stock(product(quantity=0))
    assert not is_out_of_stock(product(quantity=1))
    assert is_out_of_stock(product(quantity=0, status="paused"))
    assert not is_out_of_stock(product(quantity=1, status="paused"))
    assert not is_out_of_stock(product(quantity=0, status="delisted"))


def test_slow_mover_boundaries() -> None:
    assert is_slow_mover(product(listed_days_ago=30), NOW, 30)
    assert not is_slow_mover(product(listed_days_ago=29), NOW, 30)
    assert is_slow_mover(product(listed_days_ago=90, sold_days_ago=30), NOW, 30)
    assert not is_slow_mover(product(listed_days_ago=90, sold_days_ago=29), NOW, 30)
    assert not is_slow_mover(product(listed_days_ago=90, quantity=0), NOW, 30)
    assert not is_slow_mover(product(listed_days_ago=90, status="paused"), NOW, 30)


def test_aged_boundaries() -> None:
    assert is_aged(product(listed_days_ago=181), NOW, 180)
    assert not is_aged(product(listed_days_ago=180), NOW, 180)
    assert is_aged(product(listed_days_ago=181, status="paused", sold_days_ago=1), NOW, 180)
    assert not is_aged(product(listed_days_ago=181, quantity=0), NOW, 180)


def test_reallocation_target_prefers_out_of_stock_then_latest_sale() -> None:
    origin = product("amazon", listed_days_ago=60)
    ebay = product("ebay", sold_days_ago=3)
    woot = product("woot", sold_days_ago=1)
    walmart = product("walmart", quantity=0)
    stale = product("etsy", sold_days_ago=30)
    other_sku = product("zulu", quantity=0, sku="B")

    assert reallocation_target(origin, [origin, ebay, woot, walmart], NOW, 30) == (
        ReallocationTarget("walmart", "out_of_stock")
    )
    assert reallocation_target(origin, [origin, ebay, woot], NOW, 30) == ReallocationTarget(
        "woot", "recent_sale"
    )
    assert reallocation_target(origin, [origin, stale, other_sku], NOW, 30) is None


def test_conditions_for_all_rules() -> None:
    config = InsightsConfig(slow_after_days=30, aged_after_days=180)
    slow_and_aged = product("amazon", quantity=4, listed_days_ago=200)
    sold_out = product("ebay", quantity=0, listed_days_ago=10, sold_days_ago=2)

    assert conditions([slow_and_aged, sold_out], NOW, config) == [
        Condition(
            "amazon",
            "A",
            "slow_mover",
            {"quantity": 4, "listed_date": "2025-11-13T00:00:00Z", "last_sold_at": None},
        ),
        Condition("amazon", "A", "aged", {"quantity": 4, "listed_date": "2025-11-13T00:00:00Z"}),
        Condition(
            "amazon",
            "A",
            "reallocation_candidate",
            {
                "origin_channel": "amazon",
                "target_channel": "ebay",
                "reason": "slow_mover",
                "target_reason": "out_of_stock",
                "quantity": 4,
            },
        ),
        Condition("ebay", "A", "out_of_stock", {"quantity": 0}),
    ]


def test_aged_only_products_are_reallocated_as_aged() -> None:
    config = InsightsConfig(slow_after_days=30, aged_after_days=180)
    aged_selling = product("amazon", quantity=4, listed_days_ago=200, sold_days_ago=1)
    wanting = product("ebay", quantity=2, listed_days_ago=10, sold_days_ago=5)

    found = conditions([aged_selling, wanting], NOW, config)

    assert [(c.channel, c.kind) for c in found] == [
        ("amazon", "aged"),
        ("amazon", "reallocation_candidate"),
    ]
    assert found[1].detail["reason"] == "aged"
    assert found[1].detail["target_reason"] == "recent_sale"


def test_transitions_open_new_conditions_and_resolve_ended_ones() -> None:
    was_out = OpenInsight("i-1", "amazon", "A", "out_of_stock", NOW - DAY, 1, {"quantity": 0})
    still_slow = OpenInsight("i-2", "amazon", "A", "slow_mover", NOW - DAY, 1)
    not_evaluated = OpenInsight("i-3", "ebay", "B", "out_of_stock", NOW - DAY, 1)
    holding = [
        Condition("amazon", "A", "slow_mover", {"quantity": 3}),
        Condition("amazon", "A", "aged", {"quantity": 3}),
    ]

    planned = plan_transitions(
        "t1", [was_out, still_slow, not_evaluated], holding, {("amazon", "A")}, NOW, "evt"
    )

    assert planned == [
        Transition("i-1", "amazon", "A", "out_of_stock", "resolved", NOW, 2, {"quantity": 0}),
        Transition(
            insight_id("t1", "amazon", "A", "aged", "evt"),
            "amazon",
            "A",
            "aged",
            "open",
            NOW,
            1,
            {"quantity": 3},
        ),
    ]


def test_insight_ids_and_event_ids_are_deterministic() -> None:
    first = insight_id("t1", "amazon", "A", "aged", "evt")
    assert first == insight_id("t1", "amazon", "A", "aged", "evt")
    assert first != insight_id("t1", "amazon", "A", "aged", "evt-2")
    transition = Transition(first, "amazon", "A", "aged", "resolved", NOW, 2, {"quantity": 3})

    event = insight_event(transition, "t1", "corr")

    assert event.model_dump(mode="json") == {
        "schema_version": 1,
        "event_id": f"insight.generated:{first}:2:resolved",
        "occurred_at": "2026-06-01T00:00:00Z",
        "tenant_id": "t1",
        "correlation_id": "corr",
        "insight_id": first,
        "channel": "amazon",
        "sku": "A",
        "kind": "aged",
        "status": "resolved",
        "since": "2026-06-01T00:00:00Z",
        "detail": {"quantity": 3},
    }
    assert replace(transition, number=3) != transition
