"""Insights' handlers: load → decide → save (with the outbox) → emit."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog

from relay_insights.adapters.database import InsightsDatabase, TenantState, TenantUnit
from relay_insights.domain.allocation import allocate
from relay_insights.domain.merged_feed import MergedOffer, parse_merged_csv
from relay_insights.domain.orders import apply_sales, order_lines
from relay_insights.domain.rules import conditions
from relay_insights.domain.transitions import insight_event, plan_transitions
from relay_shared import keys
from relay_shared.channel_config import InsightsConfig
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError
from relay_shared.events import Event, OffersMerged, OrderShipped
from relay_shared.merged_feed import MergedFeedError
from relay_shared.outbox import Outbox
from relay_shared.storage import ObjectStore

log = structlog.get_logger(__name__)


class Publisher(Protocol):
    async def publish(self, event: Event) -> bool: ...


@dataclass(frozen=True)
class Evaluation:
    """What triggers an evaluation: the event (for ids and correlation) and the as-of time."""

    trigger: str
    correlation_id: str
    as_of: datetime


@dataclass
class InsightsHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    database: InsightsDatabase
    outbox: Outbox
    bus: Publisher

    async def on_offers_merged(self, event: OffersMerged) -> None:
        """Set every enabled channel's quantities from the merged feed, then evaluate."""
        sections = await self.configs.load_channel_sections(event.tenant_id, event.config_version)
        offers = await self._merged_offers(keys.tenant_key(event.tenant_id, event.merged_key))
        skus = [offer.sku for offer in offers]
        async with self.database.tenant(event.tenant_id) as unit:
            if await unit.claim_event(event.event_id):
                state = await unit.tenant_state()
                if state is None or event.occurred_at >= state.merged_at:
                    existing = {p.key: p for p in await unit.products(skus)}
                    channels = sections.enabled_channels()
                    products = allocate(offers, channels, existing, event.occurred_at)
                    await unit.upsert_products(products, event.occurred_at)
                    await unit.save_tenant_state(
                        TenantState(event.config_version, event.run_id, event.occurred_at)
                    )
                    await _evaluate(unit, skus, sections.insights, _evaluation(event))
                else:
                    log.info("offers_merged.stale", applied_run=state.run_id)
        await self.publish_pending()

    async def on_order_shipped(self, event: OrderShipped) -> None:
        """Record the order's new lines, take them off the channel's stock, evaluate."""
        insights_config = await self._latest_insights_config(event.tenant_id)
        items = [(item.sku, item.quantity) for item in event.items]
        async with self.database.tenant(event.tenant_id) as unit:
            listed = {
                p.sku: p
                for p in await unit.products([sku for sku, _ in items])
                if p.channel == event.channel
            }
            lines = order_lines(event.order_id, event.channel, items, event.shipped_at, listed)
            recorded = await unit.insert_order_lines(lines, event.event_id)
            for line in recorded:
                if line.problem is not None:
                    log.warning(
                        "order.unknown_sku",
                        order_id=line.order_id,
                        sku=line.sku,
                        channel=line.channel,
                        code=line.problem,
                    )
            sold = apply_sales(recorded, listed)
            await unit.upsert_products(sold, event.occurred_at)
            skus = sorted({p.sku for p in sold})
            await _evaluate(unit, skus, insights_config, _evaluation(event))
        await self.publish_pending()

    async def publish_pending(self) -> int:
        """Publish what the outbox holds (this handler's events, and any left by a crash)."""
        return await self.outbox.drain(self.bus.publish)

    async def _latest_insights_config(self, tenant_id: str) -> InsightsConfig:
        """The rules' settings of the tenant's latest merged config (defaults before any)."""
        state = await self.database.tenant_state(tenant_id)
        if state is None:
            return InsightsConfig()
        return (await self.configs.load_channel_sections(tenant_id, state.config_version)).insights

    async def _merged_offers(self, key: str) -> list[MergedOffer]:
        data = await self.store.get_bytes(key)
        try:
            return parse_merged_csv(data)
        except MergedFeedError as exc:
            raise PermanentError(str(exc), code="invalid_merged_feed", key=key) from exc


def _evaluation(event: Event) -> Evaluation:
    return Evaluation(event.event_id, event.correlation_id, event.occurred_at)


async def _evaluate(
    unit: TenantUnit, skus: Collection[str], config: InsightsConfig, evaluation: Evaluation
) -> None:
    """Evaluate the rules for every channel's listing of ``skus``; store the transitions and
    their events (outbox) in the unit's transaction."""
    if not skus:
        return
    products = await unit.products(skus)
    holding = conditions(products, evaluation.as_of, config)
    transitions = plan_transitions(
        unit.tenant_id,
        await unit.open_insights(skus),
        holding,
        {p.key for p in products},
        evaluation.as_of,
        evaluation.trigger,
    )
    events = [insight_event(t, unit.tenant_id, evaluation.correlation_id) for t in transitions]
    await unit.record_transitions(transitions, events)
