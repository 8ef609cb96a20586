"""Opening and resolving insights, and the events that announce each transition.

An insight is open at most once per (channel, sku, kind); it is resolved when its condition no
longer holds for a product that was evaluated. Ids are deterministic: an insight's id derives
from the tenant, the product, the kind and the event that opened it; an event's id from the
insight id, the transition number and the status, so a re-emitted event is dropped by the bus.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from relay_insights.domain.rules import Condition, DetailValue
from relay_shared import subjects
from relay_shared.channel_config import InsightKind
from relay_shared.events import InsightGenerated

InsightStatus = Literal["open", "resolved"]
_INSIGHT_NAMESPACE = uuid.UUID("6f1c3a4e-2b0d-4c59-9a51-0c9a4f3e7d21")


@dataclass(frozen=True)
class OpenInsight:
    insight_id: str
    channel: str
    sku: str
    kind: InsightKind
    opened_at: datetime
    transitions: int
    detail: dict[str, DetailValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """An insight opened (transition 1) or resolved (its next transition)."""

    insight_id: str
    channel: str
    sku: str
    kind: InsightKind
    status: InsightStatus
    at: datetime
    number: int
    detail: dict[str, DetailValue] = field(default_factory=dict)


def insight_id(tenant_id: str, channel: str, sku: str, kind: str, opened_by: str) -> str:
    """The id of the insight that the event ``opened_by`` opens for this product and kind."""
    return str(
        uuid.uuid5(_INSIGHT_NAMESPACE, "\x1f".join((tenant_id, channel, sku, kind, opened_by)))
    )


def plan_transitions(
    tenant_id: str,
    open_insights: Sequence[OpenInsight],
    holding: Sequence[Condition],
    evaluated: Collection[tuple[str, str]],
    as_of: datetime,
    trigger: str,
) -> list[Transition]:
    """Resolve the open insights of ``evaluated`` products whose condition ended; open one
    for every holding condition without an open insight. Resolutions come first."""
    holding_keys = {(c.channel, c.sku, c.kind) for c in holding}
    open_keys = {(i.channel, i.sku, i.kind) for i in open_insights}
    resolved = [
        Transition(
            i.insight_id, i.channel, i.sku, i.kind, "resolved", as_of, i.transitions + 1, i.detail
        )
        for i in open_insights
        if (i.channel, i.sku) in evaluated and (i.channel, i.sku, i.kind) not in holding_keys
    ]
    opened = [
        Transition(
            insight_id(tenant_id, c.channel, c.sku, c.kind, trigger),
            c.channel,
            c.sku,
            c.kind,
            "open",
            as_of,
            1,
            dict(c.detail),
        )
        for c in holding
        if (c.channel, c.sku, c.kind) not in open_keys
    ]
    return resolved + opened


def insight_event(transition: Transition, tenant_id: str, correlation_id: str) -> InsightGenerated:
    """The ``insight.generated`` event of a transition (``since`` = when the status began)."""
    return InsightGenerated(
        event_id=":".join(
            (
                subjects.INSIGHT_GENERATED,
                transition.insight_id,
                str(transition.number),
                transition.status,
            )
        ),
        occurred_at=transition.at,
        tenant_id=tenant_id,
        correlation_id=correlation_id,
        insight_id=transition.insight_id,
        channel=transition.channel,
        sku=transition.sku,
        kind=transition.kind,
        status=transition.status,
        since=transition.at,
        detail=dict(transition.detail),
    )
