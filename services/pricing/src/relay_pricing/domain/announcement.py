"""The event announcing a run's merge: ``offers.merged`` for a run that succeeded,
``run.failed`` (naming its first cause) for one that failed. A function of the run and its
outputs only, so a replica or a replay announces the same event, with the same id."""

from __future__ import annotations

from collections.abc import Mapping

from relay_pricing.domain.change_outputs import full_feed_key, merge_changes
from relay_pricing.domain.run import RunOutputs
from relay_shared import subjects
from relay_shared.events import (
    OffersMerged,
    RowsNormalized,
    RunFailed,
    VendorCounts,
    stage_event_id,
)


def announcement(
    event: RowsNormalized, outputs: RunOutputs, written: Mapping[str, str]
) -> OffersMerged | RunFailed:
    """The event announcing the merge; ``written`` maps each output file to its key."""
    vendors = vendor_counts(outputs)
    if outputs.status == "succeeded":
        return OffersMerged(
            event_id=stage_event_id(subjects.OFFERS_MERGED, event.scope_id),
            occurred_at=event.occurred_at,
            tenant_id=event.tenant_id,
            correlation_id=event.correlation_id,
            run_id=event.scope_id,
            vendors=vendors,
            config_version=event.config_version,
            merged_key=full_feed_key(written),
            summary_key=written["run_summary.json"],
            errors_key=written["errors.json"],
            merged_rows=outputs.merged_rows,
            skus_left_out=len(outputs.skus_left_out),
            changes=merge_changes(written, event.as_of),
        )
    code, message = first_error(outputs)
    return RunFailed(
        event_id=stage_event_id(subjects.RUN_FAILED, event.scope_id),
        occurred_at=event.occurred_at,
        tenant_id=event.tenant_id,
        correlation_id=event.correlation_id,
        run_id=event.scope_id,
        vendors=vendors,
        stage="merge",
        code=code,
        message=message,
        report_key=written["errors.json"],
    )


def vendor_counts(outputs: RunOutputs) -> dict[str, VendorCounts]:
    """Each vendor's counts, as the run summary has them."""
    return {vendor_id: entry.counts() for vendor_id, entry in outputs.summary.vendors.items()}


def first_error(outputs: RunOutputs) -> tuple[str, str]:
    """The cause of a failed run: its first feed-level error (a feed that failed or is
    missing), else its first error."""
    errors = outputs.errors.errors
    if not errors:
        return "run_failed", "the run failed"
    feed_level = [item for item in errors if item.row is None]
    first = (feed_level or errors)[0]
    vendor = f"vendor {first.vendor_id}: " if first.vendor_id else ""
    return first.code, f"{vendor}{first.message}"
