"""Scheduled runs: the run a due cron time starts, derived from the tenant and the time only
(so a replica that starts it again writes the same run id and event id), and when a due time
that waits for vendors starts.

Waiting (``schedule.wait_for_vendors``, ``max_wait_min``): a due cron time with no listed
vendors starts its run at once (``cron``; ``occurred_at`` = the cron time). With listed
vendors it starts as soon as every one of them has a fresh feed (``vendors_fresh``), or
``max_wait_min`` after the cron time with what is there (``max_wait``); either way
``occurred_at`` is the moment it started. A vendor's feed is *fresh* when its newest inbound
file (the one a run would pin) is not the file the tenant's latest run pinned for it: another
key, or the same key written again after that pin. A vendor no run has pinned yet is fresh
as soon as it has any file. The run id stays that of the cron time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from relay_shared.events import RunRequested
from relay_shared.tenant_config import TenantConfig

StartReason = Literal["cron", "vendors_fresh", "max_wait"]


@dataclass(frozen=True)
class ScheduleSetting:
    """A tenant's schedule as of ``config_version`` (``cron`` None: it has none any more)."""

    tenant_id: str
    config_version: int
    cron: str | None
    timezone: str
    wait_for_vendors: tuple[str, ...] = ()
    max_wait_min: int = 0

    @classmethod
    def of(cls, tenant_id: str, config_version: int, config: TenantConfig) -> ScheduleSetting:
        schedule = config.schedule
        if schedule is None:
            return cls(tenant_id, config_version, None, config.timezone)
        return cls(
            tenant_id,
            config_version,
            schedule.runs,
            config.timezone,
            tuple(schedule.wait_for_vendors),
            schedule.max_wait_min,
        )


@dataclass(frozen=True)
class DueSchedule:
    """A tenant's schedule whose cron time ``due_at`` has come."""

    tenant_id: str
    config_version: int
    due_at: datetime
    wait_for_vendors: tuple[str, ...] = ()
    max_wait_min: int = 0
    #: the listed vendors without a fresh feed at the last check (None: not checked yet)
    waiting_for: tuple[str, ...] | None = None

    @property
    def wait_ends_at(self) -> datetime:
        return self.due_at + timedelta(minutes=self.max_wait_min)


@dataclass(frozen=True)
class LatestFeed:
    """A vendor's newest inbound file."""

    key: str
    last_modified: datetime


@dataclass(frozen=True)
class LastPin:
    """The file the tenant's latest run pinned for a vendor (``key`` None: it had none)."""

    key: str | None
    pinned_at: datetime


def is_fresh(latest: LatestFeed | None, pinned: LastPin | None) -> bool:
    if latest is None:
        return False
    if pinned is None or pinned.key is None:
        return True
    return latest.key != pinned.key or latest.last_modified > pinned.pinned_at


def start_reason(
    schedule: DueSchedule, now: datetime, missing: Sequence[str] | None
) -> StartReason | None:
    """Why the due run starts at ``now`` (None: it goes on waiting). ``missing``: the listed
    vendors without a fresh feed (None: not checked)."""
    if not schedule.wait_for_vendors:
        return "cron"
    if missing is not None and not missing:
        return "vendors_fresh"
    if now >= schedule.wait_ends_at:
        return "max_wait"
    return None


def scheduled_run_id(tenant_id: str, due_at: datetime) -> str:
    """``sched-<UTC minute>-<hash of the tenant>`` (a run id of at most 64 characters)."""
    tenant = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
    return f"sched-{due_at.astimezone(UTC):%Y%m%dT%H%MZ}-{tenant}"


def scheduled_run(
    tenant_id: str, config_version: int, due_at: datetime, started_at: datetime | None = None
) -> RunRequested:
    """The run of the cron time ``due_at``, started at ``started_at`` (default: ``due_at``)."""
    run_id = scheduled_run_id(tenant_id, due_at)
    return RunRequested(
        event_id=f"run.requested:{run_id}",
        occurred_at=started_at or due_at,
        tenant_id=tenant_id,
        correlation_id=run_id,
        run_id=run_id,
        config_version=config_version,
    )
