"""Scheduled runs: the tenant's ``schedule.runs`` (cron, tenant timezone) starts runs by itself.

The schedule lives in Postgres (:class:`~relay_ingest.adapters.schedules_repository.
SchedulesRepository`): every replica ticks every ``APP_SCHEDULE_TICK_S`` and starts what is
due; a due time starts one run however many replicas tick, and a restart loses nothing (the
next tick finds what fell due meanwhile). A started run is an ordinary ``run.requested``
(run id ``sched-<UTC minute>-<tenant hash>``), which this same service pins and announces.

With ``schedule.wait_for_vendors`` a due time waits (see :mod:`relay_ingest.domain.schedules`):
each tick looks whether every listed vendor has a fresh feed and starts the run as soon as
they do, or once ``max_wait_min`` has passed since the cron time with what is there. While it
waits, the row records the vendors still missing (``waiting_for``). A tenant whose feeds cannot
be looked at (S3 down) is logged and looked at again next tick; the others go on.

The time is the service's clock (``APP_CLOCK_OFFSET_FILE`` moves it, in tests and demos only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from relay_ingest.domain.schedules import (
    DueSchedule,
    ScheduleSetting,
    StartReason,
    start_reason,
)
from relay_shared.clock import Clock, SystemClock
from relay_shared.keys import ForeignKeyError
from relay_shared.outbox import Outbox, Publisher
from relay_shared.tenant_config import TenantConfig

log = structlog.get_logger(__name__)


class Schedules(Protocol):
    @property
    def outbox(self) -> Outbox: ...

    async def set_schedule(self, setting: ScheduleSetting, now: datetime) -> None: ...

    async def start_due(self, now: datetime) -> list[str]: ...

    async def waiting(self, now: datetime) -> list[DueSchedule]: ...

    async def start(
        self, due: DueSchedule, now: datetime, reason: StartReason, missing: Sequence[str]
    ) -> str | None: ...

    async def still_waiting(
        self, due: DueSchedule, missing: Sequence[str], now: datetime
    ) -> None: ...


class Freshness(Protocol):
    async def missing(self, tenant_id: str, vendors: Sequence[str]) -> list[str]: ...


@dataclass
class ScheduleHandlers:
    schedules: Schedules
    bus: Publisher
    freshness: Freshness
    clock: Clock = field(default_factory=SystemClock)

    async def configure(self, tenant_id: str, version: int, config: TenantConfig) -> None:
        setting = ScheduleSetting.of(tenant_id, version, config)
        await self.schedules.set_schedule(setting, self.clock.now())

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Start the runs due now (those that wait: once their vendors are fresh or the wait
        is over); publish them (the outbox's drain)."""
        at = now or self.clock.now()
        started = await self.schedules.start_due(at)
        for due in await self.schedules.waiting(at):
            run_id = await self._waited(due, at)
            if run_id is not None:
                started.append(run_id)
        if started:
            log.info("ingest.scheduled_runs_started", runs=started)
            await self.schedules.outbox.drain(self.bus.publish)
        return started

    async def _waited(self, due: DueSchedule, now: datetime) -> str | None:
        """Start ``due``'s run if its vendors are fresh or its wait is over; else record who
        is still missing."""
        missing: list[str] | None = None
        try:
            missing = await self.freshness.missing(due.tenant_id, due.wait_for_vendors)
        except (ClientError, BotoCoreError, OSError, ForeignKeyError) as exc:
            log.warning(
                "ingest.schedule_freshness_failed", tenant_id=due.tenant_id, error=repr(exc)
            )
        reason = start_reason(due, now, missing)
        if reason is None:
            if missing is not None:
                if tuple(missing) != due.waiting_for:
                    log.info("ingest.scheduled_run_waits", tenant_id=due.tenant_id, missing=missing)
                await self.schedules.still_waiting(due, missing, now)
            return None
        if missing is None:
            missing = list(due.waiting_for if due.waiting_for is not None else due.wait_for_vendors)
        run_id = await self.schedules.start(due, now, reason, missing)
        if run_id is not None:
            log.info(
                "ingest.scheduled_run_started",
                tenant_id=due.tenant_id,
                run_id=run_id,
                started_by=reason,
                missing=missing,
            )
        return run_id
