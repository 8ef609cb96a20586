"""Evaluating a tenant's products inside its unit: the rules, the insights' transitions, the
daily cap on announced openings, and the reallocation list that follows the candidates.

One code path for the evaluation on each change (the skus an event touched) and the daily one
(every product of the tenant: one set-based query finds the skus whose rules' kinds differ
from their open insights, :mod:`relay_insights.adapters.changes`, and only those are
evaluated here): products stream in batches that keep a sku's channels together, so memory
stays bounded whatever the tenant's size, and every write is set-based.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from relay_insights.adapters import changes, schedules
from relay_insights.adapters import reallocation as reallocation_db
from relay_insights.adapters.database import TenantUnit
from relay_insights.domain.announcing import DailyCap, counts_of, summary_events
from relay_insights.domain.products import Product
from relay_insights.domain.reallocation import candidate_entry, changed_event
from relay_insights.domain.rules import conditions
from relay_insights.domain.schedule import local_day
from relay_insights.domain.transitions import (
    Transition,
    announced_as,
    insight_event,
    plan_transitions,
    with_state_now,
)
from relay_shared.channel_config import InsightsConfig
from relay_shared.outbox import Outbox

DEFAULT_BATCH = 20_000
#: an event touching more skus than this (a listings file, a merged feed) is evaluated like
#: the daily evaluation: only those of its skus whose kinds changed reach Python
PREFILTER_FROM = 5_000


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
class Outcome:
    products: int = 0
    opened: int = 0
    resolved: int = 0

    def as_counts(self) -> dict[str, int]:
        return {"products": self.products, "opened": self.opened, "resolved": self.resolved}


async def evaluate(
    unit: TenantUnit,
    evaluation: Evaluation,
    skus: Collection[str] | None,
    batch_size: int = DEFAULT_BATCH,
) -> Outcome:
    """Evaluate the products of ``skus`` (None: every product of the tenant) on every
    channel; store the transitions and their events (outbox) in the unit's transaction."""
    outcome = Outcome()
    if skus is not None and not skus:
        return outcome
    day = evaluation.cap_day
    stored = await schedules.announced_counts(unit.conn, unit.tenant_id, day)
    sent, held = counts_of(stored)
    cap = DailyCap(day, evaluation.config.max_new_per_channel_per_day, sent, held)
    considered: Collection[str] | None = skus
    if skus is None or len(skus) > PREFILTER_FROM:  # only the skus whose kinds changed
        config = evaluation.config
        changed, total = await changes.changed_skus(
            unit.conn,
            unit.tenant_id,
            evaluation.as_of - timedelta(days=config.slow_after_days),
            evaluation.as_of - timedelta(days=config.aged_after_days),
        )
        if skus is None:
            considered, outcome.products = changed, total
        else:
            touched = set(skus)
            considered = [sku for sku in changed if sku in touched]
    if considered:
        async for products in unit.product_batches(considered, batch_size):
            await _evaluate_batch(unit, products, evaluation, cap, outcome, counted=skus is None)
    summaries = summary_events(unit.tenant_id, cap, evaluation.as_of, evaluation.correlation_id)
    await Outbox.add(unit.conn, *summaries)
    if counts_of(stored) != (cap.sent, cap.held):
        await schedules.save_announced_counts(unit.conn, unit.tenant_id, day, cap.sent, cap.held)
    return outcome


async def _evaluate_batch(
    unit: TenantUnit,
    products: Sequence[Product],
    evaluation: Evaluation,
    cap: DailyCap,
    outcome: Outcome,
    *,
    counted: bool,
) -> None:
    open_insights = await unit.open_insights(sorted({p.sku for p in products}))
    keyed = {p.key: p for p in products}
    holding = conditions(products, evaluation.as_of, evaluation.config)
    planned = plan_transitions(
        unit.tenant_id, open_insights, holding, keyed, evaluation.as_of, evaluation.trigger
    )
    transitions = [
        announced_as(t, cap.admit(t)) if t.status == "open" else t
        for t in with_state_now(planned, keyed)
    ]
    events = [
        insight_event(t, unit.tenant_id, evaluation.correlation_id)
        for t in transitions
        if t.announced
    ]
    await unit.record_transitions(transitions, events)
    await _follow_candidates(unit, transitions, evaluation)
    if not counted:
        outcome.products += len(products)
    outcome.opened += sum(1 for t in transitions if t.status == "open")
    outcome.resolved += sum(1 for t in transitions if t.status == "resolved")


async def _follow_candidates(
    unit: TenantUnit, transitions: Sequence[Transition], evaluation: Evaluation
) -> None:
    """An opened reallocation candidate opens its entry; a resolved one withdraws its entry
    if nobody claimed it."""
    opened = [e for e in (candidate_entry(t) for t in transitions) if e is not None]
    ended = [
        t.insight_id
        for t in transitions
        if t.kind == "reallocation_candidate" and t.status == "resolved"
    ]
    changed = await reallocation_db.open_entries(unit.conn, unit.tenant_id, opened)
    changed += await reallocation_db.withdraw(unit.conn, unit.tenant_id, ended, evaluation.as_of)
    await Outbox.add(
        unit.conn, *(changed_event(unit.tenant_id, e, evaluation.correlation_id) for e in changed)
    )
