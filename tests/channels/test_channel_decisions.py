"""The pure side of the channels service: which actions an insight causes, the reprice
floor, and the exact requests of each plugin."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from relay_channels.domain.decisions import insight_actions, pull_actions
from relay_channels.domain.repricing import NothingToRepriceError, pricing_floor, repriced
from relay_channels.domain.requests import Change, amazon_request, ebay_requests
from relay_shared.channel_config import ChannelSections
from relay_shared.events import InsightGenerated, ReallocationChanged

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _sections(channels: dict[str, Any]) -> ChannelSections:
    return ChannelSections.model_validate({"channels": channels})


def _insight(
    channel: str, kind: str, status: str = "open", quantity_now: int = 3
) -> InsightGenerated:
    return InsightGenerated(
        event_id="e",
        occurred_at=T0,
        tenant_id="t",
        correlation_id="c",
        insight_id="i",
        channel=channel,
        sku="S",
        kind=kind,
        status=status,
        since=T0,  # type: ignore[arg-type]
        detail={"quantity_now": quantity_now} if status == "resolved" else {},
    )


EBAY = {
    "insights": ["out_of_stock", "slow_mover", "aged", "reallocation_candidate"],
    "actions": {
        "out_of_stock": "pause",
        "slow_mover": {"reprice_pct": -5},
        "reallocation": "push",
    },
}


@pytest.mark.parametrize(
    ("kind", "status", "actions"),
    [
        ("out_of_stock", "open", ["pause"]),
        ("out_of_stock", "resolved", ["unpause"]),
        ("slow_mover", "open", ["reprice", "push"]),
        ("slow_mover", "resolved", []),
        ("aged", "open", ["push"]),
        ("reallocation_candidate", "open", []),
        ("summary", "open", []),
    ],
)
def test_an_insight_causes_the_configured_actions(
    kind: str, status: str, actions: list[str]
) -> None:
    planned = insight_actions(_insight("ebay", kind, status), _sections({"ebay": EBAY}))
    assert [p.action for p in planned] == actions


def test_an_out_of_stock_resolved_without_stock_does_not_unpause() -> None:
    delisted = _insight("ebay", "out_of_stock", "resolved", quantity_now=0)
    assert insight_actions(delisted, _sections({"ebay": EBAY})) == []


def test_a_channel_acts_only_on_what_it_subscribes_to_and_while_enabled() -> None:
    unsubscribed = {**EBAY, "insights": ["aged"]}
    disabled = {**EBAY, "enabled": False}
    assert (
        insight_actions(_insight("ebay", "out_of_stock"), _sections({"ebay": unsubscribed})) == []
    )
    assert insight_actions(_insight("ebay", "out_of_stock"), _sections({"ebay": disabled})) == []
    assert insight_actions(_insight("amazon", "out_of_stock"), _sections({"ebay": EBAY})) == []


def test_a_pull_takes_entries_aimed_at_the_channel_or_at_anyone() -> None:
    pulling = {"insights": ["reallocation_candidate"], "actions": {"reallocation": "pull"}}
    sections = _sections({"ebay": pulling, "amazon": pulling, "woot": {}})

    def pulled(origin: str, target: str | None) -> list[str]:
        event = ReallocationChanged(
            event_id="e",
            occurred_at=T0,
            tenant_id="t",
            correlation_id="c",
            entry_id="r1",
            origin=origin,
            target=target,
            sku="S",
            quantity=3,
            reason="slow_mover",
            state="open",
        )
        return [p.channel for p in pull_actions(event, sections)]

    assert pulled("woot", "ebay") == ["ebay"]
    assert pulled("woot", None) == ["amazon", "ebay"]
    assert pulled("amazon", None) == ["ebay"]


def test_the_floor_is_map_or_min_price_as_configured() -> None:
    assert pricing_floor("map", Decimal("5.00"), Decimal("19.50")) == Decimal("19.50")
    assert pricing_floor("map", Decimal("5.00"), None) == Decimal("5.00")
    assert pricing_floor("min_price", Decimal("5.00"), Decimal("19.50")) == Decimal("5.00")
    assert repriced(Decimal("20.00"), Decimal(-5), Decimal("5.00")) == Decimal("19.00")
    assert repriced(Decimal("20.00"), Decimal(-5), Decimal("19.75")) == Decimal("19.75")
    with pytest.raises(NothingToRepriceError):
        repriced(Decimal("19.75"), Decimal(-5), Decimal("19.75"))


def test_ebay_updates_go_25_offers_a_call() -> None:
    offers = [f"O{i}" for i in range(60)]
    calls = ebay_requests("https://api.ebay.com", Change("pause", "S", quantity=0), offers)
    sizes = [len(c.body["requests"][0]["offers"]) for c in calls]
    assert sizes == [25, 25, 10]
    assert calls[0].url == "https://api.ebay.com/sell/inventory/v1/bulk_update_price_quantity"


def test_amazon_escapes_the_sku_in_the_path() -> None:
    request = amazon_request("https://sp.example", "S1", "M1", Change("delist", "A B/1"))
    assert (request.method, request.url) == (
        "DELETE",
        "https://sp.example/listings/2021-08-01/items/S1/A%20B%2F1?marketplaceIds=M1",
    )
