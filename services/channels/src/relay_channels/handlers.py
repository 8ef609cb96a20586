"""Channels' handlers: load (the tenant's latest config and merged feed) → decide (which
actions, what they set) → save (the action pending, with its exact request) → act (send, or
in dry-run nothing) → save (the outcome, with ``channel.acted`` in the outbox) → emit.

Once per (channel, insight, action): a finished action is never repeated, and a redelivered
event finds it. Transient marketplace failures (429, 5xx, unreachable) propagate: the event
is nak'ed with a delay and the pending action is retried with the request first stored;
when the deliveries run out, :meth:`ChannelsHandlers.on_gave_up` audits it ``failed``.

A ``deferred`` action (eBay's daily revisions) is not final: :meth:`ChannelsHandlers.resume`
(called by :mod:`relay_channels.sweep` once its ``not_before`` day comes) sends it and
finishes the same audit row, announced by ``channel.acted`` with id ``…:{action_id}:resumed``.

The window accepted: a crash after the marketplace applied a request and before the outcome
was written sends that same request again on redelivery. Every request sets absolute values
(quantity, price; delist/withdraw of the same listing; the same Woot file key), so repeating
it changes nothing on the marketplace; an eBay revision may be counted twice.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from relay_channels.adapters.database import ChannelsDatabase, Deferred, Finished, Pending
from relay_channels.adapters.marketplace_http import (
    MarketplaceRejectedError,
    MarketplaceTimeoutError,
)
from relay_channels.adapters.marketplaces import Marketplaces, Performed, audit_of
from relay_channels.adapters.merged_feeds import MergedFeeds
from relay_channels.domain.changes import STATUS_AFTER, CannotActError, change_for, needs_facts
from relay_channels.domain.decisions import PlannedAction, insight_actions, pull_actions
from relay_channels.domain.requests import Change, bus_request, push_request
from relay_shared import subjects
from relay_shared.bus.failures import DEPENDENCY_ERRORS
from relay_shared.channel_config import ChannelConfig, ChannelSections
from relay_shared.clock import Clock, SystemClock
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError, RelayError
from relay_shared.events import (
    ChannelActed,
    Event,
    InsightGenerated,
    OffersMerged,
    ReallocationChanged,
    ReallocationClaimRequested,
    TenantConfigured,
    now_utc,
)
from relay_shared.outbox import Outbox, Publisher
from relay_shared.secrets_box import SecretsBox, SecretsBoxError
from relay_shared.tenant_config import TenantConfig

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TenantContext:
    config: TenantConfig
    sections: ChannelSections
    merged_key: str | None


@dataclass(frozen=True)
class Trigger:
    """The event an action answers: its correlation, and (push) the quantity offered."""

    correlation_id: str
    at: datetime
    quantity: int | None = None


@dataclass
class ChannelsHandlers:
    configs: TenantConfigStore
    database: ChannelsDatabase
    feeds: MergedFeeds
    marketplaces: Marketplaces
    box: SecretsBox | None
    outbox: Outbox
    bus: Publisher
    ebay_daily_revisions: int = 250
    clock: Clock = SystemClock()  # noqa: RUF009 - stateless, shared safely

    async def on_tenant_configured(self, event: TenantConfigured) -> None:
        if event.config_version is not None:
            await self.database.save_config_version(event.tenant_id, event.config_version)

    async def on_offers_merged(self, event: OffersMerged) -> None:
        await self.database.save_merged(
            event.tenant_id, event.config_version, event.merged_key, event.occurred_at
        )

    async def on_insight_generated(self, event: InsightGenerated) -> None:
        if event.kind == "summary":
            return
        context = await self._context(event.tenant_id)
        if context is None:
            return
        quantity = event.detail.get("quantity")
        trigger = Trigger(
            event.correlation_id, event.occurred_at, quantity if isinstance(quantity, int) else 0
        )
        for planned in insight_actions(event, context.sections):
            await self._act(planned, context, trigger)
        await self.publish_pending()

    async def on_reallocation_changed(self, event: ReallocationChanged) -> None:
        context = await self._context(event.tenant_id)
        if context is None:
            return
        trigger = Trigger(event.correlation_id, event.occurred_at)
        for planned in pull_actions(event, context.sections):
            await self._act(planned, context, trigger)
        await self.publish_pending()

    async def on_gave_up(self, event: InsightGenerated, error: RelayError) -> None:
        """An insight that could not be acted on (deliveries exhausted, or bad data): each
        of its actions still pending is audited ``failed`` with the reason."""
        context = await self._usable_context(event.tenant_id)
        planned = [] if context is None else insight_actions(event, context.sections)
        await self._fail_all(planned, event.correlation_id, error)

    async def on_pull_gave_up(self, event: ReallocationChanged, error: RelayError) -> None:
        context = await self._usable_context(event.tenant_id)
        planned = [] if context is None else pull_actions(event, context.sections)
        await self._fail_all(planned, event.correlation_id, error)

    async def _usable_context(self, tenant_id: str) -> TenantContext | None:
        """The tenant's context, None when its config cannot be read (nothing was planned)."""
        try:
            return await self._context(tenant_id)
        except PermanentError as exc:
            log.warning("channels.config_unusable", code=exc.code, error=exc.message)
            return None

    async def publish_pending(self) -> int:
        return await self.outbox.drain(self.bus.publish)

    async def _fail_all(
        self, planned: list[PlannedAction], correlation_id: str, error: RelayError
    ) -> None:
        for action in planned:
            blank = Change(action.action, action.sku)
            pending = await self.database.start(action, blank, {}, correlation_id, attempt=False)
            if pending.leased:  # another consumer is sending it: it will finish it
                continue
            failed = Finished("failed", pending.request, f"{error.code}: {error.message}", 0)
            await self._finish(action, failed, correlation_id)
        await self.publish_pending()

    async def _context(self, tenant_id: str) -> TenantContext | None:
        """The tenant's latest config (None before channels learnt any: then no channel has
        an action, the defaults)."""
        state = await self.database.tenant(tenant_id)
        if state is None or state.config_version is None:
            return None
        config = await self.configs.load(tenant_id, state.config_version)
        sections = await self.configs.load_channel_sections(tenant_id, state.config_version)
        return TenantContext(config, sections, state.merged_key)

    async def _act(self, planned: PlannedAction, context: TenantContext, trigger: Trigger) -> None:
        if await self.database.outcome(planned.action_id) is not None:
            return
        started = time.monotonic()
        channel = context.sections.channels[planned.channel]
        try:
            change = await self._change(planned, channel, context)
        except CannotActError as exc:
            log.warning("channel.cannot_act", action=planned.action, code=exc.code)
            await self.database.start(
                planned, Change(planned.action, planned.sku), {}, trigger.correlation_id
            )
            failed = Finished("failed", {}, str(exc), _ms(started))
            await self._finish(planned, failed, trigger.correlation_id)
            return
        request = self._request(planned, change, channel, trigger)
        pending = await self.database.start(planned, change, request, trigger.correlation_id)
        if pending.outcome is not None:
            return
        if planned.dry_run:
            finished = Finished("dry_run", pending.request, None, _ms(started))
        elif planned.action in ("push", "pull"):
            finished = Finished("succeeded", pending.request, "published", _ms(started))
        else:
            finished = await self._send(planned, channel, pending, started)
        await self._finish(planned, finished, trigger.correlation_id)

    async def _change(
        self, planned: PlannedAction, channel: ChannelConfig, context: TenantContext
    ) -> Change:
        facts = None
        if needs_facts(planned.action) and context.merged_key is not None:
            facts = await self.feeds.facts(planned.tenant_id, context.merged_key, planned.sku)
        currency = channel.account.currency or context.config.default_currency
        min_price = context.config.pricing.min_price
        return change_for(planned, channel, facts, min_price, currency)

    def _request(
        self, planned: PlannedAction, change: Change, channel: ChannelConfig, trigger: Trigger
    ) -> dict[str, Any]:
        if planned.action == "push":
            return push_request(
                subjects.CHANNEL_ACTED, planned.channel, planned.sku, trigger.quantity
            )
        if planned.action == "pull":
            body = {"entry_id": planned.insight_id, "channel": planned.channel}
            return bus_request(subjects.REALLOCATION_CLAIM_REQUESTED, body).audit()
        requests = self.marketplaces.planned_requests(planned, change, channel.account, trigger.at)
        return audit_of(requests)

    async def resume(self, deferred: Deferred) -> None:
        """Send a deferred action again (its day has come), as the tenant's channel is
        configured now; it finishes the same audit row, or stays deferred another day."""
        planned, started = deferred.planned, time.monotonic()
        context = await self._usable_context(planned.tenant_id)
        channel = None if context is None else context.sections.channels.get(planned.channel)
        request = deferred.pending.request
        if context is None or channel is None or not channel.enabled:
            finished = Finished("failed", request, "the channel is no longer configured", 0)
        elif channel.dry_run:
            finished = Finished("dry_run", request, None, 0)
        else:
            currency = channel.account.currency or context.config.default_currency
            change = replace(deferred.pending.change, currency=currency)
            pending = replace(deferred.pending, change=change)
            finished = await self._send(planned, channel, pending, started, resumed=True)
        await self._finish(planned, finished, deferred.correlation_id, resumed=True)

    async def _send(
        self,
        planned: PlannedAction,
        channel: ChannelConfig,
        pending: Pending,
        started: float,
        *,
        resumed: bool = False,
    ) -> Finished:
        """Send for real; a transient failure propagates (the event is retried)."""
        try:
            credentials = self._credentials(channel)
        except SecretsBoxError as exc:
            return Finished("failed", pending.request, f"credentials: {exc}", _ms(started))
        if not await self._revision_allowed(planned, pending, resumed):
            limit = self.ebay_daily_revisions
            answer = f"deferred: {planned.sku} has had its {limit} eBay revisions today"
            return Finished(
                "deferred", pending.request, answer, _ms(started), not_before=self._next_day()
            )
        try:
            performed = await self.marketplaces.perform(
                planned, pending.change, pending.request, channel.account, credentials
            )
        except DEPENDENCY_ERRORS:
            await self.database.release(planned.action_id)
            raise
        except MarketplaceRejectedError as exc:
            return Finished("failed", pending.request, f"{exc.status}: {exc.text}", _ms(started))
        except MarketplaceTimeoutError as exc:
            return Finished("timed_out", pending.request, str(exc), _ms(started))
        return _succeeded(planned, pending.change, performed, started)

    async def _revision_allowed(
        self, planned: PlannedAction, pending: Pending, resumed: bool
    ) -> bool:
        """eBay: count today's revision of the listing (once per action, and once more when
        a deferred one is resumed), unless it would pass the daily limit."""
        if planned.plugin != "ebay" or planned.action == "delist":
            return True
        if pending.attempts > 0 and not resumed:
            return True
        return await self.database.reserve_revision(
            planned.tenant_id,
            planned.channel,
            planned.sku,
            self.clock.now().astimezone(UTC).date(),
            self.ebay_daily_revisions,
        )

    def _next_day(self) -> datetime:
        """The start of the next UTC day (eBay's revision count starts again)."""
        today = self.clock.now().astimezone(UTC).date()
        return datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)

    def _credentials(self, channel: ChannelConfig) -> Mapping[str, str]:
        if not channel.credentials:
            return {}
        if self.box is None:
            raise SecretsBoxError("APP_SECRET_KEY is not set: credentials cannot be opened")
        return self.box.open_all(channel.credentials)

    async def _finish(
        self,
        planned: PlannedAction,
        finished: Finished,
        correlation: str,
        *,
        resumed: bool = False,
    ) -> None:
        """Write the outcome and its events (a resumed action that stays deferred emits
        nothing new; one that finishes emits a ``channel.acted`` of its own id)."""
        suffix = ":resumed" if resumed else ""
        events: list[Event] = [_acted(planned, finished, correlation, suffix)]
        if resumed and finished.outcome == "deferred":
            events = []
        if planned.action == "pull" and finished.outcome == "succeeded":
            events.append(_claim(planned, correlation))
        if await self.database.finish(planned.action_id, finished, events, resumed=resumed):
            log.info(
                "channel.acted",
                channel=planned.channel,
                action=planned.action,
                outcome=finished.outcome,
                duration_ms=finished.duration_ms,
            )


def _succeeded(
    planned: PlannedAction, change: Change, performed: Performed, started: float
) -> Finished:
    return Finished(
        "succeeded",
        audit_of(performed.requests),
        performed.answer,
        _ms(started),
        status_after=STATUS_AFTER.get(planned.action),
        price_after=change.price,
        artifact_key=performed.artifact_key,
    )


def _ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


def _acted(
    planned: PlannedAction, finished: Finished, correlation: str, suffix: str = ""
) -> ChannelActed:
    return ChannelActed(
        event_id=f"{subjects.CHANNEL_ACTED}:{planned.action_id}{suffix}",
        occurred_at=now_utc(),
        tenant_id=planned.tenant_id,
        correlation_id=correlation or planned.action_id,
        action_id=planned.action_id,
        insight_id=planned.insight_id,
        channel=planned.channel,
        sku=planned.sku,
        action=planned.action,
        outcome=finished.outcome,
        dry_run=planned.dry_run,
        request=finished.request,
        answer=finished.answer,
        duration_ms=finished.duration_ms,
        status_after=finished.status_after if finished.outcome == "succeeded" else None,
        price_after=_price(finished),
        artifact_key=finished.artifact_key,
    )


def _price(finished: Finished) -> Decimal | None:
    return finished.price_after if finished.outcome == "succeeded" else None


def _claim(planned: PlannedAction, correlation: str) -> ReallocationClaimRequested:
    return ReallocationClaimRequested(
        event_id=f"{subjects.REALLOCATION_CLAIM_REQUESTED}:{planned.action_id}",
        occurred_at=now_utc(),
        tenant_id=planned.tenant_id,
        correlation_id=correlation or planned.action_id,
        entry_id=planned.insight_id,
        channel=planned.channel,
    )
