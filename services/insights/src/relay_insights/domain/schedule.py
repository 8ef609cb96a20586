"""When a tenant's daily evaluation is due: at ``insights.evaluate_daily_at`` in the tenant's
timezone, once per local day.

A tenant is first evaluated at the first scheduled moment after insights first saw it (a
tenant created at 14:00 with a 06:00 evaluation is evaluated the next morning, not at once).
A scheduler that was down, or a clock moved days ahead, evaluates only the latest due day:
the rules look at the state now, so the days in between would decide nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Schedule:
    tenant_id: str
    config_version: int | None
    timezone: str
    evaluate_daily_at: str
    first_seen_at: datetime
    last_day: date | None
    last_as_of: datetime | None


def zone(name: str) -> ZoneInfo:
    """The tenant's timezone (validated with the config; UTC if it is no longer known)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, timezone: str) -> date:
    """The tenant's calendar day at ``moment``."""
    return moment.astimezone(zone(timezone)).date()


def daily_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def due_day(schedule: Schedule, now: datetime) -> date | None:
    """The local day whose evaluation is due at ``now``, or None: the latest day whose
    scheduled moment has passed, if that moment came after the tenant was first seen and the
    day was not evaluated yet."""
    tz = zone(schedule.timezone)
    local_now = now.astimezone(tz)
    at = daily_time(schedule.evaluate_daily_at)
    day = local_now.date() if local_now.time() >= at else local_now.date() - timedelta(days=1)
    scheduled = datetime.combine(day, at, tzinfo=tz)
    if scheduled <= schedule.first_seen_at:
        return None
    if schedule.last_day is not None and day <= schedule.last_day:
        return None
    return day
