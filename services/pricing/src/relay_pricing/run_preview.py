"""A config preview's merge (issue 16): the run's outputs are written like any run's, then
diffed against the tenant's latest successful run (pure: :mod:`relay_pricing.domain.feed_diff`
and :mod:`relay_pricing.domain.changes`); the report and the full diff go beside the run's
reports, and the merge is recorded as ``previewed`` with ``preview.ready``: it promotes no feed
and no drift baseline, is never a later run's "previous run", and nothing downstream of
``offers.merged`` sees it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from relay_pricing.adapters.assembly_repository import MergeRecord
from relay_pricing.adapters.history import ChangeHistory, PreviousMerge
from relay_pricing.domain.announcement import announcement, vendor_counts
from relay_pricing.domain.changes import changes_csv, empty_feed, read_feed_text
from relay_pricing.domain.feed_diff import compare_feeds
from relay_pricing.domain.run import RunOutputs
from relay_shared import keys, subjects
from relay_shared.errors import NotFoundError
from relay_shared.events import PreviewReady, RowsNormalized, stage_event_id
from relay_shared.feed_diff import PreviewReport
from relay_shared.storage import ObjectStore

MERGED = "merged_inventory.csv"
REPORT, DIFF = "preview_report.json", "preview_diff.csv"
PREVIEWED = "previewed"

log = structlog.get_logger(__name__)


@dataclass
class RunPreview:
    store: ObjectStore
    history: ChangeHistory

    async def merge_record(
        self, event: RowsNormalized, outputs: RunOutputs, written: Mapping[str, str]
    ) -> MergeRecord:
        """The preview's merge record: for a preview that merged, its diff is written first
        and ``preview.ready`` announces it; one that failed is announced like a failed run."""
        if outputs.status != "succeeded":
            ready: PreviewReady | None = None
        else:
            ready = await self._report(event, outputs, written)
        return MergeRecord(
            tenant_id=event.tenant_id,
            scope_id=event.scope_id,
            status=outputs.status if ready is None else PREVIEWED,
            merged_rows=outputs.merged_rows,
            event=announcement(event, outputs, written) if ready is None else ready,
            promoted=[],
            baselines={},
        )

    async def _report(
        self, event: RowsNormalized, outputs: RunOutputs, written: Mapping[str, str]
    ) -> PreviewReady:
        started = time.perf_counter()
        base = await self.history.previous(event.tenant_id, event.scope_id)
        previous = None if base is None else await self._feed(event.tenant_id, base)
        loaded = time.perf_counter()
        report, diff_csv = await asyncio.to_thread(
            _diff, event.scope_id, None if base is None else base.scope_id, previous, outputs
        )
        diffed = time.perf_counter()
        report_key = keys.report_key(event.tenant_id, event.scope_id, REPORT)
        diff_key = keys.report_key(event.tenant_id, event.scope_id, DIFF)
        await self.store.put_bytes(diff_key, diff_csv, content_type="text/csv")
        await self.store.put_bytes(
            report_key, report.model_dump_json().encode(), content_type="application/json"
        )
        log.info(
            "pricing.preview_reported",
            tenant_id=event.tenant_id,
            run_id=event.scope_id,
            base_run_id=report.base_run_id,
            changed=report.diff.changed,
            base_ms=_ms(loaded - started),
            diff_ms=_ms(diffed - loaded),
            write_ms=_ms(time.perf_counter() - diffed),
        )
        return PreviewReady(
            event_id=stage_event_id(subjects.PREVIEW_READY, event.scope_id),
            occurred_at=event.occurred_at,
            tenant_id=event.tenant_id,
            correlation_id=event.correlation_id,
            run_id=event.scope_id,
            config_version=event.config_version,
            base_run_id=report.base_run_id,
            merged_key=written[MERGED],
            report_key=report_key,
            diff_key=diff_key,
            merged_rows=outputs.merged_rows,
            skus_left_out=len(outputs.skus_left_out),
            vendors=vendor_counts(outputs),
        )

    async def _feed(self, tenant_id: str, base: PreviousMerge) -> bytes | None:
        """The base run's full feed (None when it has expired from the bucket)."""
        key = base.feed_key or keys.output_key(tenant_id, base.scope_id, MERGED)
        try:
            return await self.store.get_bytes(key)
        except NotFoundError:
            return None


def _diff(
    run_id: str, base_run_id: str | None, previous: bytes | None, outputs: RunOutputs
) -> tuple[PreviewReport, bytes]:
    new = read_feed_text(outputs.files[MERGED])
    old = empty_feed(new.columns) if previous is None else read_feed_text(previous)
    compared = compare_feeds(old, new)  # one join for the summary and the full diff
    report = PreviewReport(
        run_id=run_id,
        base_run_id=base_run_id if previous is not None else None,
        diff=compared.diff,
    )
    return report, changes_csv(compared.changes)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
