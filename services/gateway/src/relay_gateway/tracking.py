"""Run tracking: pipeline events move the gateway's view of a run (load → decide → save).

Every handler is idempotent: status and stage only move forward, vendor rows are upserts,
and a SUCCEEDED or FAILED run never changes again. Each event is also recorded as a sighting
(timings and attempts, see :mod:`relay_gateway.domain.run_timings`), and any event of a run
under way counts as progress: a run that stops moving is failed with ``timeout`` by
:meth:`RunTracker.fail_if_stuck`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from relay_gateway.adapters.runs import RunsRepository, RunsUnit
from relay_gateway.dispatch import RunDispatcher
from relay_gateway.domain.run_progress import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    RunError,
    Step,
    advance,
)
from relay_gateway.domain.run_timings import STAGE_OF
from relay_shared.events import (
    Event,
    FeedReceived,
    OffersMerged,
    RowsNormalized,
    RunFailed,
    now_utc,
)

log = structlog.get_logger(__name__)
SaveDetails = Callable[[RunsUnit], Awaitable[None]]


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
        async def save_results(unit: RunsUnit) -> None:
            await unit.save_counts(event.run_id, event.merged_rows, event.skus_left_out)
            for vendor_id, counts in event.vendors.items():
                await unit.save_vendor(event.run_id, vendor_id, counts, None)

        step = Step(SUCCEEDED, "done", now_utc())
        if await self._track(event, event.run_id, step, save_results):
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
