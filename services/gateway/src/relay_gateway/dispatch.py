"""Publishing ``run.requested`` for stored runs (the runs table is the outbox).

A run is stored QUEUED first; the dispatcher then publishes it with a deterministic event id
while the tenant has fewer than its cap of runs under way. A publish that fails leaves the run
waiting; the periodic sweep publishes it later (a duplicate is dropped by the server).
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from nats.errors import Error as NatsError

from relay_gateway.adapters.runs import RunsRepository, RunView
from relay_shared import subjects
from relay_shared.bus import EventBus
from relay_shared.events import RunRequested, stage_event_id

log = structlog.get_logger(__name__)
DISPATCH_FAILURES = (NatsError, OSError, TimeoutError, asyncpg.PostgresError)


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
    )


class RunDispatcher:
    def __init__(self, runs: RunsRepository, bus: EventBus, cap: int) -> None:
        self._runs = runs
        self._bus = bus
        self._cap = cap

    async def dispatch(self, tenant_id: str) -> int:
        """Publish what the tenant's cap allows now; the number published."""
        return await self._runs.dispatch(tenant_id, self._cap, self._publish)

    async def try_dispatch(self, tenant_id: str) -> None:
        """Dispatch, leaving the runs to the sweep if the bus or database is down."""
        try:
            await self.dispatch(tenant_id)
        except DISPATCH_FAILURES as exc:
            log.warning("runs.dispatch_deferred", tenant_id=tenant_id, error=repr(exc))

    async def sweep_forever(self, interval_s: float) -> None:
        while True:
            try:
                tenants = await self._runs.tenants_waiting()
            except DISPATCH_FAILURES as exc:
                log.warning("runs.sweep_failed", error=repr(exc))
                tenants = []
            for tenant_id in tenants:
                await self.try_dispatch(tenant_id)
            await asyncio.sleep(interval_s)

    async def _publish(self, run: RunView) -> None:
        await self._bus.publish(run_requested(run))
        log.info("run.dispatched", run_id=run.run_id, tenant_id=run.tenant_id)
