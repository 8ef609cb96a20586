"""The insights read model's rules (pure): which channels a principal may see. (The
reallocation list is a read model of its own, fed by ``reallocation.changed``.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from relay_gateway.domain.roles import Principal

KINDS: Final = ("out_of_stock", "slow_mover", "aged", "reallocation_candidate")
INSIGHT_STATUSES: Final = ("open", "resolved")


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


def visible_channels(principal: Principal, requested: str | None) -> frozenset[str] | None:
    """The channels to show: the requested one (if allowed), else every allowed one;
    None means every channel (a principal without a ``channels`` claim)."""
    allowed = principal.channels
    if requested is not None:
        if allowed is not None and requested not in allowed:
            raise ChannelDeniedError(requested)
        return frozenset({requested})
    return allowed
