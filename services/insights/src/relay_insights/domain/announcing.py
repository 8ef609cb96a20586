"""Which new insights go out as events: at most ``max_new_per_channel_per_day`` a channel's
local day; the rest are stored (``announced`` false) and counted in one ``insight.generated``
of kind ``summary`` per channel and day. A resolution goes out only when its opening did.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from relay_insights.domain.transitions import Transition
from relay_shared import subjects
from relay_shared.events import InsightGenerated

_SUMMARY_NAMESPACE = uuid.UUID("0b6c2f55-93d4-4f0f-8a3e-5d2a1c7e9b40")


@dataclass
class DailyCap:
    """A channel-day's budget of announced openings, filled across an evaluation's batches."""

    day: date
    limit: int
    sent: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    held_now: dict[str, int] = field(default_factory=dict)

    def admit(self, transition: Transition) -> bool:
        """Whether an opening goes out as an event (counted either way)."""
        return self.admit_on(transition.channel)

    def admit_on(self, channel: str) -> bool:
        """Whether the next opening on ``channel`` goes out as an event (counted either way)."""
        if self.sent.get(channel, 0) < self.limit:
            self.sent[channel] = self.sent.get(channel, 0) + 1
            return True
        self.held[channel] = self.held.get(channel, 0) + 1
        self.held_now[channel] = self.held_now.get(channel, 0) + 1
        return False


def summary_id(tenant_id: str, channel: str, day: date) -> str:
    """The one summary insight of a channel's day."""
    return str(uuid.uuid5(_SUMMARY_NAMESPACE, "\x1f".join((tenant_id, channel, day.isoformat()))))


def summary_events(
    tenant_id: str, cap: DailyCap, as_of: datetime, correlation_id: str
) -> list[InsightGenerated]:
    """One summary per channel that held insights in this evaluation, with the day's total
    held so far (a later evaluation of the same day announces the new total)."""
    return [
        summary_event(tenant_id, channel, cap.day, cap.held[channel], as_of, correlation_id)
        for channel in sorted(cap.held_now)
    ]


def summary_event(
    tenant_id: str, channel: str, day: date, count: int, as_of: datetime, correlation_id: str
) -> InsightGenerated:
    iid = summary_id(tenant_id, channel, day)
    return InsightGenerated(
        event_id=f"{subjects.INSIGHT_GENERATED}:{iid}:{count}:summary",
        occurred_at=as_of,
        tenant_id=tenant_id,
        correlation_id=correlation_id,
        insight_id=iid,
        channel=channel,
        sku="*",
        kind="summary",
        status="open",
        since=as_of,
        detail={"day": day.isoformat(), "count": count},
    )


def counts_of(rows: Mapping[str, tuple[int, int]]) -> tuple[dict[str, int], dict[str, int]]:
    """``(sent, held)`` by channel from stored ``channel → (sent, held)`` rows."""
    return (
        {channel: sent for channel, (sent, _) in rows.items()},
        {channel: held for channel, (_, held) in rows.items()},
    )
