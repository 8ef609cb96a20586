"""Pricing's handler: record each vendor's result; once the run has them all, merge and
price (pure engine), write the artifacts, record the outcome, emit.

Idempotent, and its state and its events cannot diverge:
- each vendor's result is recorded once (``INSERT … ON CONFLICT DO NOTHING``);
- artifacts go to keys under the run, so a re-run rewrites the same bytes (only
  ``timings_ms`` of run_summary.json may differ);
- the merge's outcome is recorded *after* the artifacts are written, in one transaction with
  the exact event that announces it (written to pricing's outbox, event id
  ``offers.merged:<run>`` / ``run.failed:<run>``) and, only on success, the vendors' latest
  feeds (and drift baselines);
- the outbox is then drained (:mod:`relay_shared.outbox`, the event id sent as
  ``Nats-Msg-Id``), and only then is the message acked. A replay after the record does not
  decide again: it drains what is still pending, with the same id. So a crash anywhere leaves
  either no decision (the replay makes it) or one recorded decision and its one event.
Two replicas that both see a run complete produce identical artifacts; the first record wins
(and writes the event), and both drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from relay_pricing.adapters.assembly_repository import AssemblyRepository, MergeRecord
from relay_pricing.adapters.explain_index import write_explain_index
from relay_pricing.adapters.normalized_offers import vendor_feed
from relay_pricing.domain import MISSING, FeedInput, RunOutputs, build_run_outputs
from relay_pricing.domain.announcement import announcement
from relay_pricing.domain.assembly import (
    VendorHandoff,
    inputs_for_merge,
    is_complete,
    unchanged_vendors,
)
from relay_pricing.domain.change_outputs import CHANGE_OUTPUT_FILES
from relay_pricing.domain.drift import FeedBaseline, fresh_baselines, guard_drift
from relay_pricing.domain.merge import merge_columns
from relay_pricing.run_changes import RunChanges
from relay_pricing.run_preview import RunPreview
from relay_shared import keys
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import RelayError
from relay_shared.events import RowsNormalized
from relay_shared.outbox import Publisher
from relay_shared.run_failure import fail_run
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import TenantConfig
from relay_shared.vendor_report import VendorReport

OUTPUT_FILES = frozenset({"merged_inventory.csv", "merged_inventory.json"}) | CHANGE_OUTPUT_FILES


@dataclass
class PricingHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    assembly: AssemblyRepository
    bus: Publisher
    changes: RunChanges
    previews: RunPreview

    async def on_rows_normalized(self, event: RowsNormalized) -> None:
        for key in (event.normalized_key, event.handoff_key, event.findings_key):  # read later
            if key is not None:
                keys.tenant_key(event.tenant_id, key)
        await self.assembly.record(event)
        received = await self.assembly.received(event.scope_id)
        if not is_complete(list(received), event.run_vendors):
            return
        if not await self.assembly.merged(event.scope_id):
            await self._merge(event, received)
        await self.publish_pending()

    async def publish_pending(self) -> int:
        """Publish what pricing's outbox holds (this merge's event, and any left by a crash)."""
        return await self.assembly.outbox.drain(self.bus.publish)

    async def _merge(self, event: RowsNormalized, received: Mapping[str, VendorHandoff]) -> None:
        """Merge and price the run, write its artifacts, record the outcome and its event (a
        preview's: :mod:`relay_pricing.run_preview`)."""
        config = await self.configs.load(event.tenant_id, event.config_version)
        latest = await self.assembly.latest(event.tenant_id)
        chosen = inputs_for_merge([v.vendor_id for v in config.vendors], received, latest)
        outputs, current = await self._outputs(event, config, chosen)
        if event.preview:
            written = await self._write(event, outputs)
            await self.assembly.record_merge(
                await self.previews.merge_record(event, outputs, written)
            )
            return
        outputs, written = await self._amend_and_write(event, config, outputs)
        succeeded = outputs.status == "succeeded"
        await self.assembly.record_merge(
            MergeRecord(
                tenant_id=event.tenant_id,
                scope_id=event.scope_id,
                status=outputs.status,
                merged_rows=outputs.merged_rows,
                event=announcement(event, outputs, written),
                promoted=[h for h in chosen if h.from_this_run and h.status == "ok"]
                if succeeded
                else [],
                baselines=current,
            )
        )

    async def _outputs(
        self, event: RowsNormalized, config: TenantConfig, chosen: Sequence[VendorHandoff]
    ) -> tuple[RunOutputs, dict[str, FeedBaseline]]:
        """The run's outputs from the chosen feeds (drift-guarded unless forced), and the
        fresh feeds' drift baselines."""
        columns = merge_columns(config.output.columns)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="relay-pricing-") as folder:
            inputs = await asyncio.gather(  # all vendors' transfers and reads at once
                *(  # staged by position: a vendor id is no file name
                    self._feed_input(handoff, Path(folder) / f"{i}.csv", columns)
                    for i, handoff in enumerate(chosen)
                )
            )
            feeds = {handoff.vendor_id: feed for handoff, feed in zip(chosen, inputs, strict=True)}
        loaded = time.perf_counter()
        fresh = [handoff.vendor_id for handoff in chosen if handoff.from_this_run]
        current = await asyncio.to_thread(fresh_baselines, feeds, fresh)
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
            unchanged=unchanged_vendors(chosen),
        )
        return outputs, current

    async def _feed_input(
        self, handoff: VendorHandoff, staged: Path, columns: Sequence[str]
    ) -> FeedInput:
        """The vendor's report and, for a feed that is ok, its offers (only ``columns``): its
        Parquet hand-off (or, for a result from before there was one, its normalized CSV) is
        streamed into a file beside ``staged`` and read from there by polars (never whole in
        memory as bytes)."""
        if handoff.status == "missing":
            return MISSING
        report = VendorReport.model_validate_json(await self.store.get_bytes(handoff.findings_key))
        if report.status != "ok" or handoff.normalized_key is None:
            return await asyncio.to_thread(vendor_feed, report, None, columns)
        if handoff.handoff_key is None:
            await self.store.download(handoff.normalized_key, staged.with_suffix(".csv"))
            return await asyncio.to_thread(vendor_feed, report, staged.with_suffix(".csv"), columns)
        rows = staged.with_suffix(".parquet")
        await self.store.download(handoff.handoff_key, rows)
        return await asyncio.to_thread(vendor_feed, report, rows, columns, "parquet")

    async def _amend_and_write(
        self, event: RowsNormalized, config: TenantConfig, outputs: RunOutputs
    ) -> tuple[RunOutputs, dict[str, str]]:
        """The run's outputs with its change artifacts (:class:`RunChanges`), all stored; the
        key of each file by name. The explain index is encoded and stored while the change
        history is made (it adds files, never index rows): on a tenant's later runs the diff
        against the previous feed and the encoding each take about half a second of a 1M-row
        run. Every upload ends before this returns, so before the outcome is recorded."""
        index = asyncio.create_task(
            write_explain_index(self.store, event.tenant_id, event.scope_id, outputs)
        )
        try:
            outputs = await self.changes.amend(event, config, outputs)
            written = await self._write(event, outputs, explain=False)
            await index
        finally:
            await _settled(index)
        return outputs, written

    async def _write(
        self, event: RowsNormalized, outputs: RunOutputs, *, explain: bool = True
    ) -> dict[str, str]:
        """Store the run's files and (unless ``explain`` is False) its explain index, all
        uploads at once (every one is written before the outcome is recorded); the key of
        each file by name."""
        written = {
            name: keys.output_key(event.tenant_id, event.scope_id, name)
            if name in OUTPUT_FILES
            else keys.report_key(event.tenant_id, event.scope_id, name)
            for name in sorted(outputs.files)
        }
        async with asyncio.TaskGroup() as uploads:
            if explain:
                uploads.create_task(
                    write_explain_index(self.store, event.tenant_id, event.scope_id, outputs)
                )
            for name, key in written.items():
                content_type = "text/csv" if name.endswith(".csv") else "application/json"
                uploads.create_task(
                    self.store.put_bytes(key, outputs.files[name], content_type=content_type)
                )
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


async def _settled(task: asyncio.Task[None]) -> None:
    """``task`` cancelled unless it is done, and waited for: nothing of it outlives the
    handler (its outcome counts only where it was awaited)."""
    task.cancel()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await task


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
