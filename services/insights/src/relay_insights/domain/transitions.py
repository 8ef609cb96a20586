"""Opening and resolving insights, and the events that announce each transition.

An insight is open at most once per (channel, sku, kind); it is resolved when its condition no
longer holds for a product that was evaluated. Ids are deterministic: an insight's id derives
from the tenant, the product, the kind and the event that opened it; an event's id from the
insight id, the transition number and the status, so a re-emitted event is dropped by the bus.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from relay_insights.domain.products import Product
from relay_insights.domain.rules import (
    OUT_OF_STOCK_DETAIL,
    Condition,
    DetailValue,
    ReallocationTarget,
    aged_detail,
    candidate_detail,
    slow_mover_detail,
)
from relay_shared import subjects
from relay_shared.channel_config import InsightKind
from relay_shared.events import InsightGenerated

InsightStatus = Literal["open", "resolved"]
_INSIGHT_NAMESPACE = uuid.UUID("6f1c3a4e-2b0d-4c59-9a51-0c9a4f3e7d21")
_NAMESPACE_BYTES = _INSIGHT_NAMESPACE.bytes


@dataclass(frozen=True, slots=True)
class OpenInsight:
    insight_id: str
    channel: str
    sku: str
    kind: InsightKind
    opened_at: datetime
    transitions: int
    detail: dict[str, DetailValue] = field(default_factory=dict)
    announced: bool = True
    #: the stored detail as JSON, parsed only when the insight resolves (a daily evaluation
    #: loads every open insight of a tenant, and resolves few)
    raw_detail: str | None = None

    def full_detail(self) -> dict[str, DetailValue]:
        if self.raw_detail is None:
            return self.detail
        loaded: dict[str, DetailValue] = json.loads(self.raw_detail)
        return loaded


@dataclass(frozen=True, slots=True)
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
    #: whether the transition goes out as an event (a held opening, and its resolution, not)
    announced: bool = True


def insight_id(tenant_id: str, channel: str, sku: str, kind: str, opened_by: str) -> str:
    """The id of the insight that the event ``opened_by`` opens for this product and kind:
    the UUID version 5 of those parts (computed here, several times faster than
    :func:`uuid.uuid5`, for a daily evaluation opens thousands)."""
    name = "\x1f".join((tenant_id, channel, sku, kind, opened_by)).encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


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
            i.insight_id,
            i.channel,
            i.sku,
            i.kind,
            "resolved",
            as_of,
            i.transitions + 1,
            i.full_detail(),
            i.announced,
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


def with_state_now(
    transitions: Sequence[Transition], products: Mapping[tuple[str, str], Product]
) -> list[Transition]:
    """Resolutions carry the product's state when they ended (``status_now``,
    ``quantity_now``): a channel unpauses only on a resolution with stock (a paused listing
    stays out of stock until restocked; one delisted meanwhile resolves with quantity 0)."""
    result: list[Transition] = []
    for transition in transitions:
        product = products.get((transition.channel, transition.sku))
        if transition.status == "resolved" and product is not None:
            t = transition  # built directly: dataclasses.replace is slow for thousands
            detail: dict[str, DetailValue] = {
                **t.detail,
                "status_now": product.status,
                "quantity_now": product.quantity,
            }
            transition = Transition(
                t.insight_id,
                t.channel,
                t.sku,
                t.kind,
                t.status,
                t.at,
                t.number,
                detail,
                t.announced,
            )
        result.append(transition)
    return result


def announced_as(transition: Transition, announced: bool) -> Transition:
    """The transition with ``announced`` set (built directly, without dataclasses.replace)."""
    t = transition
    return Transition(
        t.insight_id, t.channel, t.sku, t.kind, t.status, t.at, t.number, t.detail, announced
    )


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


@dataclass(frozen=True, slots=True)
class Opening:
    """A rule that holds for a product with no open insight of its kind, with the facts its
    detail is made of (``target``: the reallocation candidate's target channel, and whether
    it is out of stock of the sku, else it sold it recently)."""

    channel: str
    sku: str
    kind: InsightKind
    quantity: int
    listed_date: datetime
    last_sold_at: datetime | None
    slow: bool
    target: str | None = None
    target_out_of_stock: bool = False


@dataclass(frozen=True, slots=True)
class Ending:
    """An open insight whose rule no longer holds for its product, with the product's state
    now; ``raw_detail`` (stored JSON) is only needed when the resolution is announced."""

    insight_id: str
    channel: str
    sku: str
    kind: InsightKind
    transitions: int
    announced: bool
    raw_detail: str | None
    status_now: str
    quantity_now: int


def opening_detail(opening: Opening) -> dict[str, DetailValue]:
    """The detail :func:`relay_insights.domain.rules.conditions` gives the same condition."""
    o = opening
    if o.kind == "out_of_stock":
        return dict(OUT_OF_STOCK_DETAIL)
    if o.kind == "slow_mover":
        return slow_mover_detail(o.quantity, o.listed_date, o.last_sold_at)
    if o.kind == "aged":
        return aged_detail(o.quantity, o.listed_date)
    reason = "out_of_stock" if o.target_out_of_stock else "recent_sale"
    return candidate_detail(
        o.channel, o.quantity, o.slow, ReallocationTarget(str(o.target), reason)
    )


def opened(
    tenant_id: str, opening: Opening, as_of: datetime, trigger: str, announced: bool = True
) -> Transition:
    """The opening of an insight (transition 1), its id derived from ``trigger``."""
    o = opening
    iid = insight_id(tenant_id, o.channel, o.sku, o.kind, trigger)
    detail = opening_detail(o)
    return Transition(iid, o.channel, o.sku, o.kind, "open", as_of, 1, detail, announced)


def ended(ending: Ending, as_of: datetime) -> Transition:
    """The resolution of an open insight, with ``status_now``/``quantity_now`` (see
    :func:`with_state_now`) on its stored detail when it is announced."""
    e = ending
    detail: dict[str, DetailValue] = {}
    if e.raw_detail is not None:
        detail = {**json.loads(e.raw_detail), "status_now": e.status_now}
        detail["quantity_now"] = e.quantity_now
    return Transition(
        e.insight_id,
        e.channel,
        e.sku,
        e.kind,
        "resolved",
        as_of,
        e.transitions + 1,
        detail,
        e.announced,
    )
