"""Evaluating a tenant's products inside its unit: the rules, the insights' transitions, the
daily cap on announced openings, and the reallocation list that follows the candidates.

One code path for the evaluation on each change (the skus an event touched) and the daily one
(every product of the tenant): one set-based query (:mod:`relay_insights.adapters.changes`)
finds the (channel, sku, kind) whose rule started or stopped holding, so Python only sees the
transitions, whatever the catalogue's size; they stream in batches (memory stays bounded),
and every write is set-based.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from relay_insights.adapters import changes, schedules
from relay_insights.adapters import reallocation as reallocation_db
from relay_insights.adapters.database import TenantUnit
from relay_insights.domain.announcing import DailyCap, counts_of, summary_events
from relay_insights.domain.reallocation import candidate_entry, changed_event
from relay_insights.domain.schedule import local_day
from relay_insights.domain.transitions import (
    Ending,
    Opening,
    Transition,
    ended,
    insight_event,
    opened,
)
from relay_shared.channel_config import InsightsConfig
from relay_shared.outbox import Outbox

#: transitions stored per batch (an evaluation streams them, so memory stays bounded)
DEFAULT_BATCH = 20_000


@dataclass(frozen=True)
class Evaluation:
    """What triggers an evaluation: the event or day (for ids and correlation), the as-of
    time, the tenant's rules and timezone, and the day a cap counts in: a daily evaluation's
    own day (it can run after that local midnight), else the tenant's day at ``as_of``."""

    trigger: str
    correlation_id: str
    as_of: datetime
    config: InsightsConfig
    timezone: str = "UTC"
    day: date | None = None

    @property
    def cap_day(self) -> date:
        return self.day if self.day is not None else local_day(self.as_of, self.timezone)


@dataclass
class EvaluationOutcome:
    products: int = 0
    opened: int = 0
    resolved: int = 0

    def as_counts(self) -> dict[str, int]:
        return {"products": self.products, "opened": self.opened, "resolved": self.resolved}


async def evaluate(
    unit: TenantUnit,
    evaluation: Evaluation,
    skus: Collection[str] | changes.SkuScope | None,
    batch_size: int = DEFAULT_BATCH,
    *,
    count_products: bool = False,
) -> EvaluationOutcome:
    """Evaluate the products of ``skus`` (a scope, as :mod:`~relay_insights.adapters.changes`
    filters them; None: every product of the tenant) on every
    channel; store the transitions and their events (outbox) in the unit's transaction.
    ``count_products``: also count the products evaluated (the daily evaluation reports it;
    an order's evaluation does not, and saves the statement)."""
    outcome = EvaluationOutcome()
    if isinstance(skus, Collection) and not skus:
        return outcome
    day = evaluation.cap_day
    stored = await _announced_counts(unit, day)
    sent, held = counts_of(stored)
    cap = DailyCap(day, evaluation.config.max_new_per_channel_per_day, sent, held)
    config = evaluation.config
    cutoffs = (
        evaluation.as_of - timedelta(days=config.slow_after_days),
        evaluation.as_of - timedelta(days=config.aged_after_days),
    )
    scope = await changes.sku_scope(unit.conn, skus)
    if count_products:
        outcome.products = await changes.product_count(unit.conn, unit.tenant_id, scope)
    batches = changes.differences(unit.conn, unit.tenant_id, cutoffs, scope, batch_size)
    async for differences in batches:
        transitions = _transitions(unit.tenant_id, differences, evaluation, cap)
        await _store_batch(unit, transitions, evaluation)
        outcome.opened += sum(1 for t in transitions if t.status == "open")
        outcome.resolved += sum(1 for t in transitions if t.status == "resolved")
    summaries = summary_events(unit.tenant_id, cap, evaluation.as_of, evaluation.correlation_id)
    await Outbox.add(unit.conn, *summaries)
    if counts_of(stored) != (cap.sent, cap.held):
        await schedules.save_announced_counts(unit.conn, unit.tenant_id, day, cap.sent, cap.held)
        unit.announced[day] = {
            channel: (cap.sent.get(channel, 0), cap.held.get(channel, 0))
            for channel in set(cap.sent) | set(cap.held)
        }
    return outcome


async def _announced_counts(unit: TenantUnit, day: date) -> dict[str, tuple[int, int]]:
    """The day's stored counts: read once per unit (its later evaluations, the other orders of
    a batch, take them as the unit last saved them: it holds the tenant's lock)."""
    stored = unit.announced.get(day)
    if stored is None:
        stored = await schedules.announced_counts(unit.conn, unit.tenant_id, day)
        unit.announced[day] = stored
    return stored


def _transitions(
    tenant_id: str, differences: Sequence[Ending | Opening], evaluation: Evaluation, cap: DailyCap
) -> list[Transition]:
    """A batch of differences as transitions: its resolutions, then its openings (in the
    order the rules list them, admitted under the day's cap in that order)."""
    as_of, trigger = evaluation.as_of, evaluation.trigger
    resolutions: list[Transition] = []
    openings: list[Transition] = []
    for d in differences:
        if isinstance(d, Ending):
            resolutions.append(ended(d, as_of))
        else:
            openings.append(opened(tenant_id, d, as_of, trigger, cap.admit_on(d.channel)))
    return resolutions + openings


async def _store_batch(
    unit: TenantUnit, transitions: Sequence[Transition], evaluation: Evaluation
) -> None:
    """Store the transitions with the events of the announced ones, and follow the
    reallocation candidates."""
    events = [
        insight_event(t, unit.tenant_id, evaluation.correlation_id)
        for t in transitions
        if t.announced
    ]
    await unit.record_transitions(transitions, events)
    await _follow_candidates(unit, transitions, evaluation)


async def _follow_candidates(
    unit: TenantUnit, transitions: Sequence[Transition], evaluation: Evaluation
) -> None:
    """An opened reallocation candidate opens its entry; a resolved one withdraws its entry
    if nobody claimed it."""
    entries = [e for e in (candidate_entry(t) for t in transitions) if e is not None]
    withdrawn = [
        t.insight_id
        for t in transitions
        if t.kind == "reallocation_candidate" and t.status == "resolved"
    ]
    changed = await reallocation_db.open_entries(unit.conn, unit.tenant_id, entries)
    changed += await reallocation_db.withdraw(
        unit.conn, unit.tenant_id, withdrawn, evaluation.as_of
    )
    await Outbox.add(
        unit.conn, *(changed_event(unit.tenant_id, e, evaluation.correlation_id) for e in changed)
    )
