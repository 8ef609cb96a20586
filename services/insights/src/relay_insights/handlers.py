"""Insights' handlers: load → decide → save (with the outbox) → emit.

Every evaluation on a change runs as of the event's time, never before the tenant's last
daily evaluation (a clock moved ahead for a test or demo does not go back for an event
stamped by the real clock).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import structlog

from relay_insights.adapters import listings as listings_db
from relay_insights.adapters import reallocation as reallocation_db
from relay_insights.adapters import schedules
from relay_insights.adapters.changes import SkuScope
from relay_insights.adapters.database import InsightsDatabase, LatestMergedRun, TenantUnit
from relay_insights.domain.allocation import channel_quantities
from relay_insights.domain.merged_feed import MergedOffers, read_merged_offers
from relay_insights.domain.orders import OrderLine, apply_sales, order_lines
from relay_insights.domain.products import Product
from relay_insights.domain.reallocation import changed_event, push_entry
from relay_insights.evaluation import DEFAULT_BATCH, Evaluation, evaluate
from relay_shared import keys, subjects
from relay_shared.channel_config import InsightsConfig
from relay_shared.clock import Clock, SystemClock
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError
from relay_shared.events import (
    ChannelActed,
    Event,
    ListingsImported,
    OffersMerged,
    OrderRecorded,
    OrderShipped,
    ReallocationClaimRequested,
    RecordedLine,
    TenantConfigured,
)
from relay_shared.group_commit import GroupCommit, each_alone_on_failure
from relay_shared.listings import Listings, ListingsError, parse_listings
from relay_shared.merged_feed import MergedFeedError
from relay_shared.outbox import Outbox, Publisher
from relay_shared.storage import ObjectStore

log = structlog.get_logger(__name__)

#: orders of one tenant recorded in one transaction, at most (``APP_ORDER_BATCH_SIZE``)
DEFAULT_ORDER_BATCH = 100


@dataclass(frozen=True)
class _Order:
    """An order waiting for its tenant's batch, with its message's context."""

    event: OrderShipped
    context: contextvars.Context


@dataclass(frozen=True)
class TenantRules:
    """A tenant's rules and timezone (its latest known config), and its last daily as-of."""

    config: InsightsConfig
    timezone: str
    last_as_of: datetime | None

    def evaluation(self, event: Event) -> Evaluation:
        as_of = event.occurred_at
        if self.last_as_of is not None and self.last_as_of > as_of:
            as_of = self.last_as_of
        return Evaluation(event.event_id, event.correlation_id, as_of, self.config, self.timezone)


@dataclass
class InsightsHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    database: InsightsDatabase
    outbox: Outbox
    bus: Publisher
    clock: Clock = SystemClock()  # noqa: RUF009 - stateless, shared safely
    batch_size: int = DEFAULT_BATCH
    #: orders of one tenant recorded in one transaction, at most
    order_batch_size: int = DEFAULT_ORDER_BATCH
    _order_batches: dict[str, GroupCommit[_Order, Exception | None]] = field(
        default_factory=dict, init=False, repr=False
    )

    async def on_offers_merged(self, event: OffersMerged) -> None:
        """Set every enabled channel's quantities from the merged feed, then evaluate."""
        sections = await self.configs.load_channel_sections(event.tenant_id, event.config_version)
        config = await self.configs.load(event.tenant_id, event.config_version)
        offers = await self._merged_offers(keys.tenant_key(event.tenant_id, event.merged_key))
        await schedules.note_tenant(
            self.database.pool,
            event.tenant_id,
            self.clock.now(),
            event.config_version,
            config.timezone,
            sections.insights.evaluate_daily_at,
        )
        rules = await self.rules(event.tenant_id, event.config_version)
        async with self.database.tenant(event.tenant_id) as unit:
            if await unit.claim_event(event.event_id):
                state = await unit.tenant_state()
                if state is None or event.occurred_at >= state.merged_at:
                    quantities = channel_quantities(
                        offers.quantities(), sections.enabled_channels()
                    )
                    staged = await unit.apply_merged_offers(offers, quantities, event.occurred_at)
                    await unit.save_tenant_state(
                        LatestMergedRun(event.config_version, event.run_id, event.occurred_at)
                    )
                    offered = SkuScope(table=staged)  # the feed's skus, already in Postgres
                    await evaluate(unit, rules.evaluation(event), offered, self.batch_size)
                else:
                    log.info("offers_merged.stale", applied_run=state.run_id)
        await self.publish_pending()

    async def on_order_shipped(self, event: OrderShipped) -> None:
        """Record the order's new lines (announced with order.recorded), take them off the
        channel's stock, evaluate: in one transaction with the tenant's other orders handled
        at the same time (:class:`relay_shared.group_commit.GroupCommit`), so a burst of orders
        costs one transaction, one rules lookup and one read of its listings per batch. An
        order whose batch fails is then recorded alone: it fails alone, the others are not held
        back. The events are published after the batch, outside it (the outbox's drains of
        concurrent handlers share passes), so the tenant's next batch is recorded while this
        one's are published."""
        batch = self._order_batches.get(event.tenant_id)
        if batch is None:
            record = partial(self._record_orders, event.tenant_id)
            batch = GroupCommit(record, max_batch=self.order_batch_size)
            self._order_batches[event.tenant_id] = batch
        # With the message's context: its work logs its own ids and joins its own trace.
        failure = await batch.submit(_Order(event, contextvars.copy_context()))
        if failure is not None:
            raise failure
        await self.publish_pending()

    async def _record_orders(self, tenant_id: str, orders: list[_Order]) -> list[Exception | None]:
        """Each order's outcome: the batch in one transaction, else each order in its own."""
        return await each_alone_on_failure(orders, partial(self._record_in_one_unit, tenant_id))

    async def _record_in_one_unit(self, tenant_id: str, orders: list[_Order]) -> None:
        """The batch's orders in turn, each on the products its predecessors left: their
        listings are read once, up front (nothing else writes products in an order's unit),
        and each order's sales are kept as it saves them."""
        rules = await self.rules(tenant_id)
        async with self.database.tenant(tenant_id, generic_plans=True) as unit:
            skus = {item.sku for order in orders for item in order.event.items}
            listed = {p.key: p for p in await unit.products(skus)}
            for order in orders:
                recording = self._record_order(unit, rules, order.event, listed)
                await asyncio.create_task(recording, context=order.context)

    async def _record_order(
        self,
        unit: TenantUnit,
        rules: TenantRules,
        event: OrderShipped,
        listed: dict[tuple[str, str], Product],
    ) -> None:
        """Record the order's new lines, sell them off ``listed`` (the unit's products, kept
        up to date with the sales), evaluate."""
        items = [(item.sku, item.quantity) for item in event.items]
        on_channel = {
            sku: listed[(event.channel, sku)] for sku, _ in items if (event.channel, sku) in listed
        }
        lines = order_lines(event.order_id, event.channel, items, event.shipped_at, on_channel)
        recorded = await unit.insert_order_lines(lines, event.event_id)
        if recorded:
            await Outbox.add(unit.conn, order_recorded(event, recorded))
        for line in recorded:
            if line.problem is not None:
                log.warning(
                    "order.unknown_sku",
                    order_id=line.order_id,
                    sku=line.sku,
                    channel=line.channel,
                    code=line.problem,
                )
        sold = apply_sales(recorded, on_channel)
        if sold:
            await unit.upsert_products(sold, event.occurred_at)
            listed.update((p.key, p) for p in sold)
        skus = sorted({p.sku for p in sold})
        await evaluate(unit, rules.evaluation(event), skus, self.batch_size)

    async def on_listings_imported(self, event: ListingsImported) -> None:
        """Set the channel's products from its listings file (once per file), evaluate."""
        listings = await self._listings(event)
        rules = await self.rules(event.tenant_id)
        async with self.database.tenant(event.tenant_id) as unit:
            if await unit.claim_event(event.event_id):
                skus = await listings_db.import_listings(
                    unit.conn, event.tenant_id, event.channel, listings, event.occurred_at
                )
                await evaluate(unit, rules.evaluation(event), skus, self.batch_size)
                log.info("listings.imported", channel=event.channel, rows=len(listings))
        await self.publish_pending()

    async def on_channel_acted(self, event: ChannelActed) -> None:
        """A succeeded action: the listing's status and price follow (the rules then see a
        paused listing as paused); a push offers the channel's stock to the reallocation
        list; a pull makes the entry its channel claimed done. Dry runs, failures and
        deferrals change nothing here."""
        if event.outcome != "succeeded":
            return
        rules = await self.rules(event.tenant_id)
        async with self.database.tenant(event.tenant_id) as unit:
            if await unit.claim_event(event.event_id):
                at = rules.evaluation(event).as_of
                product = await unit.follow_action(
                    event.channel, event.sku, event.status_after, event.price_after, at
                )
                if event.action == "push" and product is not None:
                    await self._push(unit, event, product.quantity, at)
                if event.action == "pull":
                    await self._pulled(unit, event, at)
                if product is not None:
                    await evaluate(unit, rules.evaluation(event), [event.sku], self.batch_size)
        await self.publish_pending()

    async def on_claim_requested(self, event: ReallocationClaimRequested) -> None:
        """Claim the entry for the pulling channel: at most once, whoever races (the UPDATE
        that finds it open wins); a refused claim changes nothing."""
        async with self.database.transaction() as conn:
            claimed = await reallocation_db.claim(
                conn, event.tenant_id, event.entry_id, event.channel, event.occurred_at
            )
            if claimed is not None:
                await Outbox.add(
                    conn, changed_event(event.tenant_id, claimed, event.correlation_id)
                )
        if claimed is None:
            log.info("reallocation.claim_refused", entry_id=event.entry_id, channel=event.channel)
        await self.publish_pending()

    async def on_tenant_configured(self, event: TenantConfigured) -> None:
        """Know the tenant (its daily schedule starts now) and its latest config version."""
        timezone, daily_at = "UTC", InsightsConfig().evaluate_daily_at
        if event.config_version is not None:
            config = await self.configs.load(event.tenant_id, event.config_version)
            sections = await self.configs.load_channel_sections(
                event.tenant_id, event.config_version
            )
            timezone, daily_at = config.timezone, sections.insights.evaluate_daily_at
        await schedules.note_tenant(
            self.database.pool,
            event.tenant_id,
            self.clock.now(),
            event.config_version,
            timezone,
            daily_at,
        )

    async def rules(self, tenant_id: str, version: int | None = None) -> TenantRules:
        """The rules of the tenant's latest known config (defaults before any)."""
        schedule = await schedules.schedule_of(self.database.pool, tenant_id)
        if version is None and schedule is not None:
            version = schedule.config_version
        if version is None:
            state = await self.database.tenant_state(tenant_id)
            version = None if state is None else state.config_version
        last_as_of = None if schedule is None else schedule.last_as_of
        if version is None:
            return TenantRules(InsightsConfig(), "UTC", last_as_of)
        config = await self.configs.load(tenant_id, version)
        sections = await self.configs.load_channel_sections(tenant_id, version)
        return TenantRules(sections.insights, config.timezone, last_as_of)

    async def publish_pending(self) -> int:
        """Publish what the outbox holds (this handler's events, and any left by a crash)."""
        return await self.outbox.drain(self.bus.publish)

    async def _push(self, unit: TenantUnit, event: ChannelActed, stock: int, at: datetime) -> None:
        wanted = event.request.get("quantity")
        quantity = wanted if isinstance(wanted, int) and 0 <= wanted <= stock else stock
        entry = push_entry(event.action_id, event.channel, event.sku, quantity, at)
        for created in await reallocation_db.open_entries(unit.conn, unit.tenant_id, [entry]):
            await Outbox.add(
                unit.conn, changed_event(unit.tenant_id, created, event.correlation_id)
            )

    async def _pulled(self, unit: TenantUnit, event: ChannelActed, at: datetime) -> None:
        """The pull of entry ``event.insight_id`` succeeded: the entry is done, once its
        channel holds the claim (claimed here when the claim request is not consumed yet)."""
        entry_id, channel = event.insight_id, event.channel
        claimed = await reallocation_db.claim(unit.conn, unit.tenant_id, entry_id, channel, at)
        done = await reallocation_db.complete(unit.conn, unit.tenant_id, entry_id, channel, at)
        if done is None:
            log.info("reallocation.done_refused", entry_id=entry_id, channel=channel)
        changes = [entry for entry in (claimed, done) if entry is not None]
        await Outbox.add(
            unit.conn, *(changed_event(unit.tenant_id, e, event.correlation_id) for e in changes)
        )

    async def _listings(self, event: ListingsImported) -> Listings:
        data = await self.store.get_bytes(keys.tenant_key(event.tenant_id, event.listings_key))
        try:
            return await asyncio.to_thread(parse_listings, data)
        except ListingsError as exc:
            raise PermanentError(str(exc), code="invalid_listings", key=event.listings_key) from exc

    async def _merged_offers(self, key: str) -> MergedOffers:
        data = await self.store.get_bytes(key)
        try:
            return await asyncio.to_thread(read_merged_offers, data)
        except MergedFeedError as exc:
            raise PermanentError(str(exc), code="invalid_merged_feed", key=key) from exc


def order_recorded(event: OrderShipped, recorded: list[OrderLine]) -> OrderRecorded:
    """The order's newly recorded lines (a re-sent order records none, announces nothing)."""
    digest = hashlib.sha256(event.event_id.encode()).hexdigest()[:32]
    return OrderRecorded(
        event_id=f"{subjects.ORDER_RECORDED}:{event.tenant_id}:{digest}",
        occurred_at=event.occurred_at,
        tenant_id=event.tenant_id,
        correlation_id=event.correlation_id,
        order_id=event.order_id,
        channel=event.channel,
        shipped_at=event.shipped_at,
        lines=[RecordedLine(sku=r.sku, quantity=r.quantity, problem=r.problem) for r in recorded],
    )
