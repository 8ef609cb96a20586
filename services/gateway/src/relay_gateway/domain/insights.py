"""The insights read model's rules (pure): which channels a principal may see, and the
reallocation entry an open ``reallocation_candidate`` insight stands for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from relay_gateway.domain.roles import Principal

KINDS: Final = ("out_of_stock", "slow_mover", "aged", "reallocation_candidate")
INSIGHT_STATUSES: Final = ("open", "resolved")
REALLOCATION_KIND: Final = "reallocation_candidate"


class ChannelDeniedError(Exception):
    """The principal's ``channels`` claim does not include this channel (403)."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"this principal may not see channel {channel!r}")
        self.channel = channel


@dataclass(frozen=True)
class Insight:
    insight_id: str
    channel: str
    sku: str
    kind: str
    status: str
    since: datetime
    detail: dict[str, Any]


@dataclass(frozen=True)
class ReallocationEntry:
    insight_id: str
    sku: str
    origin_channel: str
    target_channel: str
    reason: str
    target_reason: str | None
    quantity: int
    since: datetime


def visible_channels(principal: Principal, requested: str | None) -> frozenset[str] | None:
    """The channels to show: the requested one (if allowed), else every allowed one;
    None means every channel (a principal without a ``channels`` claim)."""
    allowed = principal.channels
    if requested is not None:
        if allowed is not None and requested not in allowed:
            raise ChannelDeniedError(requested)
        return frozenset({requested})
    return allowed


def reallocation_entry(insight: Insight) -> ReallocationEntry | None:
    """The entry of an open reallocation candidate; None for anything else or a detail
    missing the origin, target or quantity."""
    if insight.kind != REALLOCATION_KIND or insight.status != "open":
        return None
    detail: Mapping[str, Any] = insight.detail
    target, quantity = detail.get("target_channel"), detail.get("quantity")
    if not isinstance(target, str) or not isinstance(quantity, int):
        return None
    target_reason = detail.get("target_reason")
    return ReallocationEntry(
        insight_id=insight.insight_id,
        sku=insight.sku,
        origin_channel=str(detail.get("origin_channel") or insight.channel),
        target_channel=target,
        reason=str(detail.get("reason") or ""),
        target_reason=target_reason if isinstance(target_reason, str) else None,
        quantity=quantity,
        since=insight.since,
    )
