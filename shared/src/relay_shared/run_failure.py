"""Failing a run outside the engine (a request that cannot be ingested, a result pricing
cannot use): its ``errors.json`` with the one feed-level cause, then its ``run.failed``.

The report is best effort: if the bucket is down when the retries ran out, the run still
fails, without a report key. A run must never hang on its own failure.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from relay_shared import keys, subjects
from relay_shared.bus.failures import DEPENDENCY_ERRORS, is_transient
from relay_shared.errors import RelayError
from relay_shared.events import Event, RunFailed, stage_event_id
from relay_shared.findings import Finding
from relay_shared.run_reports import ErrorsReport
from relay_shared.storage import ObjectStore

log = structlog.get_logger(__name__)


class RunFailedPublisher(Protocol):
    async def publish(self, event: RunFailed) -> bool: ...


def failure_report(error: RelayError, vendor_id: str | None = None) -> bytes:
    """errors.json naming one feed-level cause (written like the engine's)."""
    cause = Finding.feed_level(vendor_id, error.code, error.message)
    return ErrorsReport(errors=[cause], warnings=[]).to_json_bytes()


async def fail_run(
    store: ObjectStore,
    bus: RunFailedPublisher,
    cause: Event,
    *,
    run_id: str,
    stage: str,
    error: RelayError,
    vendor_id: str | None = None,
) -> None:
    """Write the run's errors.json (if the bucket lets us), then publish its run.failed
    (event id ``run.failed:<run>``, timed and correlated like ``cause``)."""
    key = keys.report_key(cause.tenant_id, run_id, "errors.json")
    report: str | None = key
    try:
        await store.put_bytes(
            key, failure_report(error, vendor_id), content_type="application/json"
        )
    except DEPENDENCY_ERRORS as exc:
        if not is_transient(exc):
            raise
        log.warning("run.failure_report_unwritten", stage=stage, error=repr(exc))
        report = None
    await bus.publish(
        RunFailed(
            event_id=stage_event_id(subjects.RUN_FAILED, run_id),
            occurred_at=cause.occurred_at,
            tenant_id=cause.tenant_id,
            correlation_id=cause.correlation_id,
            run_id=run_id,
            stage=stage,
            code=error.code,
            message=error.message,
            report_key=report,
        )
    )
