"""The daily evaluation: every ``evaluate_tick_s`` the scheduler looks for tenants whose
local day has passed ``insights.evaluate_daily_at`` and was not evaluated yet
(:func:`relay_insights.domain.schedule.due_day`), and evaluates every product of each.

The claim of (tenant, local day) is an ``INSERT … ON CONFLICT DO NOTHING`` in the
evaluation's own transaction (which also holds the tenant's lock): two replicas that find the
same tenant due evaluate it once; the one that loses waits for the winner's commit and skips.
The same transaction purges the tenant's insights resolved more than
``purge_resolved_after_days`` ago. The time comes from a :class:`relay_shared.clock.Clock`
that tests and demos may move (``APP_CLOCK_OFFSET_FILE``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg
import structlog
from nats.errors import Error as NatsError

from relay_insights.adapters import schedules
from relay_insights.domain.schedule import Schedule, due_day
from relay_insights.evaluation import Evaluation, evaluate
from relay_insights.handlers import InsightsHandlers
from relay_shared.errors import RelayError

log = structlog.get_logger(__name__)
TICK_FAILURES = (asyncpg.PostgresError, OSError, TimeoutError, NatsError, RelayError)


@dataclass
class DailyScheduler:
    handlers: InsightsHandlers
    tick_s: float

    async def tick(self) -> int:
        """Evaluate every tenant whose day is due now; how many this replica evaluated."""
        now = self.handlers.clock.now()
        evaluated = 0
        for schedule in await schedules.all_schedules(self.handlers.database.pool):
            try:
                day = due_day(schedule, now)
            except ValueError as exc:  # a daily time the config no longer parses
                log.warning("daily.bad_schedule", tenant_id=schedule.tenant_id, error=str(exc))
                continue
            if day is None:
                continue
            try:
                evaluated += await self.evaluate_day(schedule, day, now)
            except TICK_FAILURES as exc:
                log.warning(
                    "daily.failed", tenant_id=schedule.tenant_id, day=str(day), error=repr(exc)
                )
        return evaluated

    async def evaluate_day(self, schedule: Schedule, day: date, now: datetime) -> bool:
        """Evaluate the tenant's ``day`` as of ``now`` unless it was claimed already."""
        handlers = self.handlers
        rules = await handlers.rules(schedule.tenant_id, schedule.config_version)
        trigger = f"daily:{schedule.tenant_id}:{day.isoformat()}"
        evaluation = Evaluation(trigger, trigger, now, rules.config, rules.timezone, day)
        started = asyncio.get_running_loop().time()
        async with handlers.database.tenant(schedule.tenant_id) as unit:
            if not await schedules.claim_day(unit.conn, unit.tenant_id, day, now):
                log.info("daily.already_claimed", tenant_id=schedule.tenant_id, day=str(day))
                return False
            outcome = await evaluate(
                unit, evaluation, None, handlers.batch_size, count_products=True
            )
            purge_before = now - timedelta(days=rules.config.purge_resolved_after_days)
            counts = {**outcome.as_counts(), "purged": await unit.purge_resolved(purge_before)}
            await schedules.finish_day(unit.conn, unit.tenant_id, day, now, counts)
        log.info(
            "daily.evaluated",
            tenant_id=schedule.tenant_id,
            day=day.isoformat(),
            seconds=round(asyncio.get_running_loop().time() - started, 3),
            **counts,
        )
        # the events are published by the periodic outbox drain (every outbox_interval_s):
        # a day with many changes must not hold up the next tenant's evaluation
        return True

    async def run_forever(self) -> None:
        """Tick until cancelled; a failed tick is logged and the next one tries again (the
        claim makes a retried day safe), so one bad tenant never stops the schedule."""
        while True:
            try:
                await self.tick()
            except TICK_FAILURES as exc:
                log.warning("daily.tick_failed", error=repr(exc))
            except Exception:  # a bug must not end the daily evaluations of every tenant
                log.exception("daily.tick_crashed")
            await asyncio.sleep(self.tick_s)
