"""The tenant's ``schedule`` section: when ingest starts runs by itself.

```yaml
schedule:
  runs: "0 */4 * * *"          # cron (5 fields: minute hour day month weekday), tenant timezone
  wait_for_vendors: [vendor_1] # optional: after a cron time, wait for fresh feeds of these
  max_wait_min: 60             #   ... at most this long, then run with what is there
```

What ingest does with it (:mod:`relay_ingest.domain.schedules`): at each cron time a run
starts at once when ``wait_for_vendors`` is empty. Otherwise the cron time waits: the run
starts as soon as every listed vendor has a fresh feed (its newest inbound file is not the one
the tenant's latest run pinned for it), or ``max_wait_min`` after the cron time with what is
there (``max_wait_min: 0``: at the cron time). The wait is durable state in ingest's schema.

Refused at config time (with the path ``schedule.runs``): anything that is not a 5-field cron
expression (a 6th field would mean seconds), a time that never comes (``0 0 30 2 *``), and a
cron firing more often than every :data:`MIN_INTERVAL_MIN` minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

#: The closest two scheduled runs of one tenant may be.
MIN_INTERVAL_MIN = 5
#: How many coming times are checked against :data:`MIN_INTERVAL_MIN` (a day of 5-minute
#: runs is 288; irregular lists like ``0,1 * * * *`` show within the first ones).
_CHECKED_TIMES = 300
_BASE = datetime(2026, 1, 1, tzinfo=UTC)

CronText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is no acceptable schedule (None when it is one)."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"must be a cron expression of 5 fields (minute hour day month weekday), got"
            f" {len(fields)}"
        )
    if not croniter.is_valid(expression):
        return f"{expression!r} is not a valid cron expression"
    times = croniter(expression, _BASE)
    try:
        previous = times.get_next(datetime)
        for _ in range(_CHECKED_TIMES):
            current = times.get_next(datetime)
            if current - previous < timedelta(minutes=MIN_INTERVAL_MIN):
                return f"runs more often than every {MIN_INTERVAL_MIN} minutes"
            previous = current
    except (CroniterBadDateError, CroniterBadCronError):
        return f"{expression!r} names no time that ever comes"
    return None


def next_run_after(expression: str, timezone: str, after: datetime) -> datetime:
    """The first cron time strictly after ``after``, in the tenant's ``timezone`` (so
    ``0 6 * * *`` is 06:00 local, across daylight-saving changes), as an aware datetime."""
    local = after.astimezone(ZoneInfo(timezone))
    found: datetime = croniter(expression, local).get_next(datetime)
    return found


class ScheduleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    runs: CronText
    wait_for_vendors: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list
    )
    max_wait_min: int = Field(default=60, ge=0, le=24 * 60)

    @field_validator("runs")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = cron_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return " ".join(value.split())
