"""The stuck-run sweep: a run under way that has not moved for ``APP_RUN_STUCK_AFTER_S``
(default 900 s) is failed with code ``timeout``, which frees its tenant's slot.

Every replica may sweep: the run row is locked and re-checked before it is failed, so a run
is failed once, and an event that arrives meanwhile wins.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from relay_gateway.adapters.runs import RunsRepository
from relay_gateway.dispatch import DISPATCH_FAILURES
from relay_gateway.tracking import RunTracker
from relay_shared.events import now_utc

log = structlog.get_logger(__name__)


class RunTimeouts:
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
