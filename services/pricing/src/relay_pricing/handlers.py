"""Pricing's handler: record each vendor's result; once the run has them all, merge and
price (pure engine), write the artifacts, record the outcome, emit.

Idempotent: artifacts go to keys under the run, the outcome and latest-feed updates are
upserts, and event ids are ``offers.merged:<run>`` / ``run.failed:<run>``. A crash anywhere
replays to the same bytes and the server drops the repeated publish. Two replicas that both
see a run complete produce identical artifacts and the same event id.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Protocol

from relay_pricing.adapters.assembly_repository import AssemblyRepository
from relay_pricing.domain import MISSING, FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_pricing.domain.assembly import VendorResult, inputs_for_merge, is_complete
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
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import TenantConfig
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
        await self.assembly.record(event)
        received = await self.assembly.received(event.scope_id)
        if not is_complete(list(received), event.run_vendors):
            return
        config = await self.configs.load(event.tenant_id, event.config_version)
        latest = await self.assembly.latest(event.tenant_id)
        chosen = inputs_for_merge([v.vendor_id for v in config.vendors], received, latest)
        started = time.perf_counter()
        feeds = {result.vendor_id: await self._feed_input(result) for result in chosen}
        loaded = time.perf_counter()
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
        promoted = [r for r in chosen if r.from_this_run and r.status == "ok"]
        await self.assembly.record_merge(
            event.tenant_id,
            event.scope_id,
            outputs.status,
            outputs.merged_rows,
            promoted if outputs.status == "succeeded" else [],
        )
        await self._announce(event, config, outputs, written)

    async def _feed_input(self, result: VendorResult) -> FeedInput:
        if result.status == "missing":
            return MISSING
        report = VendorReport.model_validate_json(await self.store.get_bytes(result.findings_key))
        if report.status == "missing":
            return MISSING
        csv = None
        if result.normalized_key is not None:
            csv = await self.store.get_bytes(result.normalized_key)
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

    async def _announce(
        self,
        event: RowsNormalized,
        config: TenantConfig,
        outputs: RunOutputs,
        written: dict[str, str],
    ) -> None:
        vendors = _vendor_counts(written, outputs)
        common = {
            "occurred_at": event.occurred_at,
            "tenant_id": event.tenant_id,
            "correlation_id": event.correlation_id,
            "run_id": event.scope_id,
            "vendors": vendors,
        }
        if outputs.status == "succeeded":
            await self.bus.publish(
                OffersMerged(
                    event_id=stage_event_id(subjects.OFFERS_MERGED, event.scope_id),
                    config_version=event.config_version,
                    merged_key=written["merged_inventory.csv"],
                    summary_key=written["run_summary.json"],
                    errors_key=written["errors.json"],
                    merged_rows=outputs.merged_rows,
                    skus_left_out=len(outputs.skus_left_out),
                    **common,
                )
            )
            return
        first_error = _first_error(outputs)
        await self.bus.publish(
            RunFailed(
                event_id=stage_event_id(subjects.RUN_FAILED, event.scope_id),
                stage="merge",
                code=first_error[0],
                message=first_error[1],
                report_key=written["errors.json"],
                **common,
            )
        )

    async def on_rows_failed(self, event: RowsNormalized, error: RelayError) -> None:
        """A result pricing cannot use at all (e.g. its config version is gone) fails the run."""
        await self.bus.publish(
            RunFailed(
                event_id=stage_event_id(subjects.RUN_FAILED, event.scope_id),
                occurred_at=event.occurred_at,
                tenant_id=event.tenant_id,
                correlation_id=event.correlation_id,
                run_id=event.scope_id,
                stage="merge",
                code=error.code,
                message=error.message,
            )
        )


def _vendor_counts(written: dict[str, str], outputs: RunOutputs) -> dict[str, VendorCounts]:
    summary = json.loads(outputs.files["run_summary.json"])
    return {
        vendor_id: VendorCounts.model_validate({k: v for k, v in entry.items() if k != "status"})
        for vendor_id, entry in summary["vendors"].items()
    }


def _first_error(outputs: RunOutputs) -> tuple[str, str]:
    errors = json.loads(outputs.files["errors.json"])["errors"]
    if not errors:
        return "run_failed", "the run failed"
    first = errors[0]
    vendor = f"vendor {first['vendor_id']}: " if first.get("vendor_id") else ""
    return str(first["code"]), f"{vendor}{first['message']}"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
