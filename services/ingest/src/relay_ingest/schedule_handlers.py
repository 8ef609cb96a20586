"""Scheduled runs: the tenant's ``schedule.runs`` (cron, tenant timezone) starts runs by itself.

The schedule lives in Postgres (:class:`~relay_ingest.adapters.schedules_repository.
SchedulesRepository`): every replica ticks every ``APP_SCHEDULE_TICK_S`` and starts what is
due; a due time starts one run however many replicas tick, and a restart loses nothing (the
next tick finds what fell due meanwhile). A started run is an ordinary ``run.requested``
(run id ``sched-<UTC minute>-<tenant hash>``, ``occurred_at`` = the cron time), which this
same service pins and announces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from relay_shared.outbox import Outbox, Publisher
from relay_shared.tenant_config import TenantConfig

log = structlog.get_logger(__name__)


class Schedules(Protocol):
    @property
    def outbox(self) -> Outbox: ...

    async def set_schedule(
        self, tenant_id: str, config_version: int, cron: str | None, timezone: str, now: datetime
    ) -> None: ...

    async def start_due(self, now: datetime) -> list[str]: ...


@dataclass
class ScheduleHandlers:
    schedules: Schedules
    bus: Publisher

    async def configure(self, tenant_id: str, version: int, config: TenantConfig) -> None:
        cron = config.schedule.runs if config.schedule is not None else None
        await self.schedules.set_schedule(
            tenant_id, version, cron, config.timezone, datetime.now(UTC)
        )

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Start the runs due now; publish them (the outbox's drain)."""
        started = await self.schedules.start_due(now or datetime.now(UTC))
        if started:
            log.info("ingest.scheduled_runs_started", runs=started)
            await self.schedules.outbox.drain(self.bus.publish)
        return started
