"""The gateway's bus side: run tracking, dispatching queued runs, failing stuck ones.

Run tracking (load → decide → save): pipeline events move the gateway's view of a run. Every
handler is idempotent: status and stage only move forward, vendor rows are upserts, and a
SUCCEEDED or FAILED run never changes again. Each event is also recorded as a sighting
(timings and attempts, see :mod:`relay_gateway.domain.run_timings`), and any event of a run
under way counts as progress: a run that stops moving is failed with ``timeout`` by
:meth:`RunTracker.fail_if_stuck`.

Dispatch: a run is stored QUEUED first; the dispatcher decides when it may start (while the
tenant has fewer than its cap of runs under way), and marks it dispatched with its
``run.requested`` (deterministic event id) written to the gateway's outbox in that same
transaction, then drains the outbox (:mod:`relay_shared.outbox`). A publish that fails leaves
the event pending; the periodic sweep drains it later (a duplicate is dropped by the server).

Timeouts: a run under way that has not moved for ``APP_RUN_STUCK_AFTER_S`` (default 900 s) is
failed with code ``timeout``, which frees its tenant's slot. Every replica may sweep: the run
row is locked and re-checked before it is failed, so a run is failed once, and an event that
arrives meanwhile wins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import structlog
from nats.errors import Error as NatsError

from relay_gateway.adapters.runs import RunsRepository, RunsUnit, RunView
from relay_gateway.domain.run_progress import Step, advance
from relay_gateway.domain.run_timings import STAGE_OF
from relay_shared import subjects
from relay_shared.bus import EventBus
from relay_shared.events import (
    Event,
    FeedReceived,
    OffersMerged,
    PreviewReady,
    RowsNormalized,
    RunFailed,
    RunRequested,
    now_utc,
    stage_event_id,
)
from relay_shared.run_states import FAILED, RUNNING, SUCCEEDED, RunError

log = structlog.get_logger(__name__)
DISPATCH_FAILURES = (NatsError, OSError, TimeoutError, asyncpg.PostgresError)
SaveDetails = Callable[[RunsUnit], Awaitable[None]]


def run_requested(run: RunView) -> RunRequested:
    return RunRequested(
        event_id=stage_event_id(subjects.RUN_REQUESTED, run.run_id),
        occurred_at=run.requested_at,
        tenant_id=run.tenant_id,
        correlation_id=run.correlation_id,
        run_id=run.run_id,
        config_version=run.config_version,
        vendors=run.vendors_requested,
        force=run.force,
        full=run.full,
        preview=run.is_preview,
    )


class RunDispatcher:
    def __init__(self, runs: RunsRepository, bus: EventBus, cap: int) -> None:
        self._runs = runs
        self._bus = bus
        self._cap = cap

    async def dispatch(self, tenant_id: str) -> int:
        """Dispatch what the tenant's cap allows now, then publish; the number dispatched."""
        dispatched = await self._runs.dispatch(tenant_id, self._cap, run_requested)
        for run in dispatched:
            log.info("run.dispatched", run_id=run.run_id, tenant_id=run.tenant_id)
        await self.publish_pending()
        return len(dispatched)

    async def try_dispatch(self, tenant_id: str) -> None:
        """Dispatch, leaving the runs (or their events) to the sweep if the bus or database
        is down."""
        try:
            await self.dispatch(tenant_id)
        except DISPATCH_FAILURES as exc:
            log.warning("runs.dispatch_deferred", tenant_id=tenant_id, error=repr(exc))

    async def publish_pending(self) -> int:
        """Publish what the gateway's outbox holds (run.requested events, in order)."""
        return await self._runs.outbox.drain(self._bus.publish)

    async def sweep_forever(self, interval_s: float) -> None:
        """The periodic drain of the outbox (what a crash or an unreachable bus left
        pending), and dispatch of the runs still waiting."""
        while True:
            try:
                await self.publish_pending()
            except DISPATCH_FAILURES as exc:
                log.warning("runs.outbox_drain_failed", error=repr(exc))
            try:
                tenants = await self._runs.tenants_waiting()
            except DISPATCH_FAILURES as exc:
                log.warning("runs.sweep_failed", error=repr(exc))
                tenants = []
            for tenant_id in tenants:
                await self.try_dispatch(tenant_id)
            await asyncio.sleep(interval_s)


@dataclass
class RunTracker:
    runs: RunsRepository
    dispatcher: RunDispatcher

    async def on_feed_received(self, event: FeedReceived) -> None:
        if event.run_id is None:
            return

        async def add_vendor(unit: RunsUnit) -> None:
            await unit.add_vendor(event.run_id or "", event.vendor_id, "pending")

        await self._track(event, event.run_id, Step(RUNNING, "normalize", now_utc()), add_vendor)

    async def on_rows_normalized(self, event: RowsNormalized) -> None:
        if event.run_id is None:
            return

        async def save_vendor(unit: RunsUnit) -> None:
            await unit.save_vendor(event.run_id or "", event.vendor_id, event.counts, event.status)

        await self._track(event, event.run_id, Step(RUNNING, "merge", now_utc()), save_vendor)

    async def on_offers_merged(self, event: OffersMerged) -> None:
        await self._merged(event, event.run_id, event.merged_rows, event.skus_left_out)

    async def on_preview_ready(self, event: PreviewReady) -> None:
        """A config preview merged: its run succeeded (nothing else follows a preview)."""
        await self._merged(event, event.run_id, event.merged_rows, event.skus_left_out)

    async def _merged(
        self, event: OffersMerged | PreviewReady, run_id: str, merged_rows: int, left_out: int
    ) -> None:
        async def save_results(unit: RunsUnit) -> None:
            await unit.save_counts(run_id, merged_rows, left_out)
            for vendor_id, counts in event.vendors.items():
                await unit.save_vendor(run_id, vendor_id, counts, None)

        step = Step(SUCCEEDED, "done", now_utc())
        if await self._track(event, run_id, step, save_results):
            await self.dispatcher.try_dispatch(event.tenant_id)

    async def on_run_failed(self, event: RunFailed) -> None:
        async def save_vendors(unit: RunsUnit) -> None:
            for vendor_id, counts in event.vendors.items():
                await unit.save_vendor(event.run_id, vendor_id, counts, None)

        error = RunError(event.code, event.message, event.report_key)
        step = Step(FAILED, event.stage, now_utc(), error)
        if await self._track(event, event.run_id, step, save_vendors):
            await self.dispatcher.try_dispatch(event.tenant_id)

    async def fail_if_stuck(self, tenant_id: str, run_id: str, cutoff: datetime) -> bool:
        """Fail the run with ``timeout`` if it still has not moved since ``cutoff``; its
        tenant's slot is freed, so a queued run is dispatched. True when it was failed."""
        async with self.runs.unit() as unit:
            current = await unit.lock_stuck(run_id, cutoff)
            if current is None:
                return False
            message = f"no progress at stage {current.stage} since {cutoff.isoformat()}"
            step = Step(FAILED, current.stage, now_utc(), RunError("timeout", message, None))
            updated = advance(current, step)
            if updated is not None:
                await unit.save_progress(run_id, updated)
        log.warning("run.timed_out", run_id=run_id, tenant_id=tenant_id, stage=current.stage)
        await self.dispatcher.try_dispatch(tenant_id)
        return updated is not None

    async def _track(self, event: Event, run_id: str, step: Step, details: SaveDetails) -> bool:
        """Record the sighting and apply ``step`` to the run; True when the run changed."""
        stage = STAGE_OF.get(event.subject) or getattr(event, "stage", event.subject)
        async with self.runs.unit() as unit:
            current = await unit.lock_progress(event.tenant_id, run_id)
            if current is None:
                log.info("run.untracked", run_id=run_id)
                return False
            if current.is_terminal:
                log.info("run.already_finished", run_id=run_id, status=current.status)
                return False
            await unit.record_sighting(run_id, event.event_id, str(stage), step.at)
            updated = advance(current, step)
            if updated is not None:
                await unit.save_progress(run_id, updated)
            await unit.touch(run_id, step.at)
            await details(unit)
        return updated is not None


class RunTimeouts:
    """The stuck-run sweep."""

    def __init__(self, runs: RunsRepository, tracker: RunTracker, stuck_after_s: float) -> None:
        self._runs = runs
        self._tracker = tracker
        self._stuck_after = timedelta(seconds=stuck_after_s)

    async def sweep(self) -> int:
        """Fail the runs stuck now; how many were failed."""
        cutoff = now_utc() - self._stuck_after
        failed = 0
        for tenant_id, run_id in await self._runs.stuck(cutoff):
            failed += await self._tracker.fail_if_stuck(tenant_id, run_id, cutoff)
        return failed

    async def sweep_forever(self, interval_s: float) -> None:
        while True:
            try:
                await self.sweep()
            except DISPATCH_FAILURES as exc:
                log.warning("runs.timeout_sweep_failed", error=repr(exc))
            await asyncio.sleep(interval_s)
