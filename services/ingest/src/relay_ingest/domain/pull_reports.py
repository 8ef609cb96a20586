"""The ``vendor.pulled`` report of a pulled vendor's state (what the gateway's per-vendor pull
status shows): derived from the vendor's row and its report number only, so a report written
twice is one event (its id names the tenant, the vendor and the number)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from relay_shared.events import VendorPulled

ReportedStatus = Literal["pending", "ok", "unchanged", "retrying", "failed", "removed"]


@dataclass(frozen=True)
class PullState:
    tenant_id: str
    vendor_id: str
    kind: str
    status: str
    error_code: str | None
    error: str | None
    attempts: int
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    next_due_at: datetime | None
    seq: int


def pull_report(state: PullState, at: datetime, *, removed: bool = False) -> VendorPulled:
    """The vendor's report at ``at``; ``removed``: the config no longer pulls it."""
    return VendorPulled(
        event_id=f"vendor.pulled:{state.tenant_id}:{state.vendor_id}:{state.seq}",
        occurred_at=at,
        tenant_id=state.tenant_id,
        correlation_id=f"pull:{state.tenant_id}:{state.vendor_id}"[:128],
        vendor_id=state.vendor_id,
        kind=cast(Literal["https", "sftp"], state.kind),
        status="removed" if removed else cast(ReportedStatus, state.status),
        error_code=state.error_code,
        error=state.error[:1000] if state.error else None,
        attempts=state.attempts,
        last_attempt_at=state.last_attempt_at,
        last_success_at=state.last_success_at,
        next_due_at=None if removed else state.next_due_at,
        seq=state.seq,
    )
