"""Ingest's handlers: load → decide → save → emit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from relay_ingest.domain.pinning import (
    InboundObject,
    PinnedFeed,
    UnknownVendorError,
    latest_inbound,
    vendors_for_run,
)
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError, RelayError
from relay_shared.events import FeedReceived, RunFailed, RunRequested, stage_event_id
from relay_shared.storage import ObjectStore


class Publisher(Protocol):
    async def publish(self, event: FeedReceived | RunFailed) -> bool: ...


class RunFeeds(Protocol):
    async def pin(
        self, tenant_id: str, run_id: str, feeds: list[PinnedFeed]
    ) -> list[PinnedFeed]: ...


@dataclass
class IngestHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    run_feeds: RunFeeds
    bus: Publisher

    async def on_run_requested(self, event: RunRequested) -> None:
        """Pin the latest inbound file of each vendor under the run; one feed.received each."""
        config = await self.configs.load(event.tenant_id, event.config_version)
        configured = [vendor.vendor_id for vendor in config.vendors]
        try:
            vendors = vendors_for_run(configured, event.vendors)
        except UnknownVendorError as exc:
            raise PermanentError(str(exc), code="unknown_vendor") from exc
        candidates = [await self._latest_feed(event.tenant_id, vendor) for vendor in vendors]
        pinned = await self.run_feeds.pin(event.tenant_id, event.run_id, candidates)
        for feed in pinned:
            await self.bus.publish(
                FeedReceived(
                    event_id=stage_event_id(subjects.FEED_RECEIVED, event.run_id, feed.vendor_id),
                    occurred_at=event.occurred_at,
                    tenant_id=event.tenant_id,
                    correlation_id=event.correlation_id,
                    run_id=event.run_id,
                    vendor_id=feed.vendor_id,
                    config_version=event.config_version,
                    key=feed.key,
                    size=feed.size,
                    run_vendors=vendors,
                    as_of=event.occurred_at,
                )
            )

    async def _latest_feed(self, tenant_id: str, vendor_id: str) -> PinnedFeed:
        listed = await self.store.list_objects(keys.inbound_prefix(tenant_id, vendor_id))
        latest = latest_inbound(InboundObject(o.key, o.size, o.last_modified) for o in listed)
        if latest is None:
            return PinnedFeed(vendor_id, None, None)
        return PinnedFeed(vendor_id, latest.key, latest.size)

    async def on_run_request_failed(self, event: RunRequested, error: RelayError) -> None:
        """A run that cannot even be ingested fails, with errors.json naming the cause."""
        report = keys.report_key(event.tenant_id, event.run_id, "errors.json")
        item = {
            "vendor_id": None,
            "row": None,
            "column": None,
            "code": error.code,
            "message": error.message,
            "value": None,
        }
        body = json.dumps({"errors": [item], "warnings": []}, indent=2) + "\n"
        await self.store.put_bytes(report, body.encode(), content_type="application/json")
        await self.bus.publish(
            RunFailed(
                event_id=stage_event_id(subjects.RUN_FAILED, event.run_id),
                occurred_at=event.occurred_at,
                tenant_id=event.tenant_id,
                correlation_id=event.correlation_id,
                run_id=event.run_id,
                stage="ingest",
                code=error.code,
                message=error.message,
                report_key=report,
            )
        )
