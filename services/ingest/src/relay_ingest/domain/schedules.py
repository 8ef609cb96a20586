"""Scheduled runs: the run a due cron time starts, derived from the tenant and the time only
(so a replica that starts it again writes the same run id and event id)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from relay_shared.events import RunRequested


def scheduled_run_id(tenant_id: str, due_at: datetime) -> str:
    """``sched-<UTC minute>-<hash of the tenant>`` (a run id of at most 64 characters)."""
    tenant = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
    return f"sched-{due_at.astimezone(UTC):%Y%m%dT%H%MZ}-{tenant}"


def scheduled_run(tenant_id: str, config_version: int, due_at: datetime) -> RunRequested:
    run_id = scheduled_run_id(tenant_id, due_at)
    return RunRequested(
        event_id=f"run.requested:{run_id}",
        occurred_at=due_at,
        tenant_id=tenant_id,
        correlation_id=run_id,
        run_id=run_id,
        config_version=config_version,
    )
