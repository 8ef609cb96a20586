"""Pricing's handler: record each vendor's result; once the run has them all, merge and
price (pure engine), write the artifacts, record the outcome, emit.

Idempotent, and its state and its events cannot diverge:
- each vendor's result is recorded once (``INSERT … ON CONFLICT DO NOTHING``);
- artifacts go to keys under the run, so a re-run rewrites the same bytes (only
  ``timings_ms`` of run_summary.json may differ);
- the merge's outcome is recorded *after* the artifacts are written and *before* anything is
  published, in one row together with the exact event that announces it, and the vendors'
  latest feeds (and drift baselines) are promoted in that same transaction, only on success;
- the recorded event is then published (event id ``offers.merged:<run>`` /
  ``run.failed:<run>``, sent as ``Nats-Msg-Id``) and marked announced, and only then is the
  message acked. A replay after the record does not decide again: it re-publishes the recorded
  event, with the same id, unless it is already marked announced. So a crash anywhere leaves
  either no decision (the replay makes it) or one recorded decision and its one event.
Two replicas that both see a run complete produce identical artifacts; the first record wins
and both publish the recorded event.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from relay_pricing.adapters.assembly_repository import (
    AssemblyRepository,
    MergeRecord,
    RecordedAnnouncement,
)
from relay_pricing.domain import MISSING, FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_pricing.domain.assembly import VendorResult, inputs_for_merge, is_complete
from relay_pricing.domain.drift import FeedStats, measure_drift, refuse_drifted
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import RelayError
from relay_shared.events import (
    OffersMerged,
    RowsNormalized,
    RunFailed,
    VendorCounts,
    stage_event_id,
)
from relay_shared.run_failure import fail_run
from relay_shared.storage import ObjectStore
from relay_shared.vendor_report import VendorReport

OUTPUT_FILES = frozenset({"merged_inventory.csv", "merged_inventory.json"})


class Publisher(Protocol):
    async def publish(self, event: OffersMerged | RunFailed) -> bool: ...


@dataclass
class PricingHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    assembly: AssemblyRepository
    bus: Publisher

    async def on_rows_normalized(self, event: RowsNormalized) -> None:
        for key in (event.normalized_key, event.findings_key):  # read later: the tenant's own
            if key is not None:
                keys.tenant_key(event.tenant_id, key)
        await self.assembly.record(event)
        received = await self.assembly.received(event.scope_id)
        if not is_complete(list(received), event.run_vendors):
            return
        recorded = await self.assembly.announcement(event.scope_id)
        if recorded is None:
            recorded = await self._merge(event, received)
        await self._publish(event.scope_id, recorded)

    async def _merge(
        self, event: RowsNormalized, received: Mapping[str, VendorResult]
    ) -> RecordedAnnouncement:
        """Merge and price the run, write its artifacts, record the outcome."""
        config = await self.configs.load(event.tenant_id, event.config_version)
        latest = await self.assembly.latest(event.tenant_id)
        chosen = inputs_for_merge([v.vendor_id for v in config.vendors], received, latest)
        with tempfile.TemporaryDirectory(prefix="relay-pricing-") as folder:
            started = time.perf_counter()
            feeds = {  # staged by position: a vendor id is no file name
                result.vendor_id: await self._feed_input(result, Path(folder) / f"{i}.csv")
                for i, result in enumerate(chosen)
            }
            loaded = time.perf_counter()
            current = await asyncio.to_thread(feed_stats, chosen, feeds)
            if not event.force:
                baselines = await self.assembly.baselines(event.tenant_id)
                feeds = guard_drift(feeds, current, baselines)
            outputs = await asyncio.to_thread(
                build_run_outputs,
                config,
                run_id=event.scope_id,
                as_of=event.as_of,
                config_version=event.config_version,
                feeds=feeds,
                timings_ms={"load": _ms(loaded - started)},
            )
        written = await self._write(event, outputs)
        succeeded = outputs.status == "succeeded"
        return await self.assembly.record_merge(
            MergeRecord(
                tenant_id=event.tenant_id,
                scope_id=event.scope_id,
                status=outputs.status,
                merged_rows=outputs.merged_rows,
                announcement=announcement(event, outputs, written),
                promoted=[r for r in chosen if r.from_this_run and r.status == "ok"]
                if succeeded
                else [],
                baselines=current,
            )
        )

    async def _publish(self, scope_id: str, recorded: RecordedAnnouncement) -> None:
        if recorded.announced:
            return
        event = recorded.event()
        assert isinstance(event, OffersMerged | RunFailed)
        await self.bus.publish(event)
        await self.assembly.mark_announced(scope_id)

    async def _feed_input(self, result: VendorResult, staged: Path) -> FeedInput:
        """The vendor's report, and its normalized CSV streamed into the file ``staged`` (read
        from there by polars: never whole in memory as bytes)."""
        if result.status == "missing":
            return MISSING
        report = VendorReport.model_validate_json(await self.store.get_bytes(result.findings_key))
        if report.status == "missing":
            return MISSING
        csv = None
        if result.normalized_key is not None:
            csv = staged
            await self.store.download(result.normalized_key, csv)
        return VendorFeed.from_report(report.model_dump(mode="json"), csv)

    async def _write(self, event: RowsNormalized, outputs: RunOutputs) -> dict[str, str]:
        written: dict[str, str] = {}
        for name, body in sorted(outputs.files.items()):
            if name in OUTPUT_FILES:
                key = keys.output_key(event.tenant_id, event.scope_id, name)
            else:
                key = keys.report_key(event.tenant_id, event.scope_id, name)
            content_type = "text/csv" if name.endswith(".csv") else "application/json"
            await self.store.put_bytes(key, body, content_type=content_type)
            written[name] = key
        return written

    async def on_rows_failed(self, event: RowsNormalized, error: RelayError) -> None:
        """A result pricing cannot use at all (e.g. its config version is gone, or its
        retries ran out) fails the run, with errors.json naming the cause."""
        await fail_run(
            self.store,
            self.bus,
            event,
            run_id=event.scope_id,
            stage="merge",
            error=error,
            vendor_id=event.vendor_id,
        )


def feed_stats(chosen: list[VendorResult], feeds: Mapping[str, FeedInput]) -> dict[str, FeedStats]:
    """The drift measures of this run's own good feeds."""
    stats: dict[str, FeedStats] = {}
    for result in chosen:
        feed = feeds.get(result.vendor_id)
        if not result.from_this_run or not isinstance(feed, VendorFeed):
            continue
        if feed.status == "ok" and feed.normalized_csv is not None:
            accepted = int(feed.stats.get("accepted", 0))
            stats[result.vendor_id] = FeedStats.from_normalized_csv(feed.normalized_csv, accepted)
    return stats


def guard_drift(
    feeds: Mapping[str, FeedInput],
    current: Mapping[str, FeedStats],
    baselines: Mapping[str, FeedStats],
) -> dict[str, FeedInput]:
    """The feeds, with each of this run's feeds that drifted from its baseline refused."""
    guarded = dict(feeds)
    for vendor_id, stats in current.items():
        feed, previous = feeds[vendor_id], baselines.get(vendor_id)
        if previous is None or not isinstance(feed, VendorFeed):
            continue
        drift = measure_drift(previous, stats)
        if drift.drifted:
            guarded[vendor_id] = refuse_drifted(vendor_id, feed, drift)
    return guarded


def announcement(
    event: RowsNormalized, outputs: RunOutputs, written: dict[str, str]
) -> OffersMerged | RunFailed:
    """The event announcing the merge: a function of the run and its outputs only."""
    vendors = _vendor_counts(written, outputs)
    if outputs.status == "succeeded":
        return OffersMerged(
            event_id=stage_event_id(subjects.OFFERS_MERGED, event.scope_id),
            occurred_at=event.occurred_at,
            tenant_id=event.tenant_id,
            correlation_id=event.correlation_id,
            run_id=event.scope_id,
            vendors=vendors,
            config_version=event.config_version,
            merged_key=written["merged_inventory.csv"],
            summary_key=written["run_summary.json"],
            errors_key=written["errors.json"],
            merged_rows=outputs.merged_rows,
            skus_left_out=len(outputs.skus_left_out),
        )
    code, message = _first_error(outputs)
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


def _vendor_counts(written: dict[str, str], outputs: RunOutputs) -> dict[str, VendorCounts]:
    summary = json.loads(outputs.files["run_summary.json"])
    return {
        vendor_id: VendorCounts.model_validate({k: v for k, v in entry.items() if k != "status"})
        for vendor_id, entry in summary["vendors"].items()
    }


def _first_error(outputs: RunOutputs) -> tuple[str, str]:
    """The cause of a failed run: its first feed-level error (a feed that failed or is
    missing), else its first error."""
    errors = json.loads(outputs.files["errors.json"])["errors"]
    if not errors:
        return "run_failed", "the run failed"
    feed_level = [entry for entry in errors if entry.get("row") is None]
    first = (feed_level or errors)[0]
    vendor = f"vendor {first['vendor_id']}: " if first.get("vendor_id") else ""
    return str(first["code"]), f"{vendor}{first['message']}"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
