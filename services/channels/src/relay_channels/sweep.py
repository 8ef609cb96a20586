"""The deferred-action sweep: every ``channels_sweep_interval_s`` a replica leases the
deferred actions whose ``not_before`` has come (by the service's clock, which tests and
demos may move with ``APP_CLOCK_OFFSET_FILE``) and sends each again
(:meth:`relay_channels.handlers.ChannelsHandlers.resume`).

A lease is held by one replica (``FOR UPDATE SKIP LOCKED``), so two replicas never resume the
same action at once. A transient failure gives the action back, still deferred: the next
sweep tries it again (an eBay revision is counted for each such try).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from relay_channels.handlers import ChannelsHandlers
from relay_shared.bus.failures import DEPENDENCY_ERRORS
from relay_shared.errors import RelayError

log = structlog.get_logger(__name__)
BATCH = 100
RESUME_FAILURES: tuple[type[BaseException], ...] = (*DEPENDENCY_ERRORS, RelayError)


@dataclass
class DeferredSweep:
    handlers: ChannelsHandlers
    interval_s: float

    async def tick(self) -> int:
        """Resume every deferred action due now; how many this replica resumed."""
        handlers = self.handlers
        resumed = 0
        for deferred in await handlers.database.claim_deferred(handlers.clock.now(), BATCH):
            try:
                await handlers.resume(deferred)
                resumed += 1
            except RESUME_FAILURES as exc:
                await handlers.database.release(deferred.planned.action_id)
                log.warning(
                    "channels.resume_failed",
                    tenant_id=deferred.planned.tenant_id,
                    action=deferred.planned.action,
                    error=repr(exc),
                )
        if resumed:
            await handlers.publish_pending()
        return resumed

    async def run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except DEPENDENCY_ERRORS as exc:
                log.warning("channels.sweep_failed", error=repr(exc))
            await asyncio.sleep(self.interval_s)
