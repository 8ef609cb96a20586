"""The reallocation list: open reallocation candidates (one entry per candidate insight, its
id the insight's) and stock a channel pushed (``push:<action id>``, offered to any channel).

States: ``open`` → ``claimed`` (by a pull, at most once) or ``withdrawn`` (the candidate
resolved while still open); ``claimed`` → ``done`` when the channel that claimed it reports
its pull succeeded (``channel.acted``). The pull's report and its claim request leave the
channels service together and insights consumes them apart: a report that comes first claims
the entry for its channel (still at most once: the same ``UPDATE … WHERE state = 'open'``), so
an entry goes open → claimed → done whichever arrives first, and the claim request that comes
later is refused.
"""

from __future__ import annotations

from datetime import datetime

from relay_insights.domain.transitions import Transition
from relay_shared import subjects
from relay_shared.events import ReallocationChanged
from relay_shared.reallocation_entry import ReallocationEntry


def candidate_entry(transition: Transition) -> ReallocationEntry | None:
    """The open entry of an opened reallocation candidate (None for anything else)."""
    if transition.kind != "reallocation_candidate" or transition.status != "open":
        return None
    detail = transition.detail
    target, quantity = detail.get("target_channel"), detail.get("quantity")
    return ReallocationEntry(
        entry_id=transition.insight_id,
        origin=str(detail.get("origin_channel") or transition.channel),
        target=target if isinstance(target, str) else None,
        sku=transition.sku,
        quantity=quantity if isinstance(quantity, int) else 0,
        reason=str(detail.get("reason") or "slow_mover"),
        state="open",
        claimed_by=None,
        changed_at=transition.at,
    )


def push_entry(
    action_id: str, channel: str, sku: str, quantity: int, at: datetime
) -> ReallocationEntry:
    """A channel's slow stock offered to any channel."""
    return ReallocationEntry(
        entry_id=f"push:{action_id}",
        origin=channel,
        target=None,
        sku=sku,
        quantity=quantity,
        reason="pushed",
        state="open",
        claimed_by=None,
        changed_at=at,
    )


def may_claim(entry: ReallocationEntry, channel: str) -> bool:
    """A pull claims an entry meant for it, or pushed stock of another channel."""
    return entry.origin != channel and entry.target in (None, channel)


def changed_event(
    tenant_id: str, entry: ReallocationEntry, correlation_id: str
) -> ReallocationChanged:
    # built without validation: every value comes from a validated entry (thousands a day)
    return ReallocationChanged.model_construct(
        event_id=":".join((subjects.REALLOCATION_CHANGED, tenant_id, entry.entry_id, entry.state)),
        occurred_at=entry.changed_at,
        tenant_id=tenant_id,
        correlation_id=correlation_id,
        entry_id=entry.entry_id,
        origin=entry.origin,
        target=entry.target,
        sku=entry.sku,
        quantity=entry.quantity,
        reason=entry.reason,
        state=entry.state,
        claimed_by=entry.claimed_by,
    )
