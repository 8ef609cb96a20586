"""Bucket drops: load → decide → save → emit, for the three ways ingest learns of them.

- ``tenant.configured``: the tenant's watched vendors (``inbound.watch``) as of that version;
- the poll (:meth:`DropHandlers.poll_once`, every ``APP_INBOUND_POLL_S``): one
  ``ListObjectsV2`` page per watched tenant, resuming after the last key of a cut page;
- MinIO's bucket notifications (:meth:`DropHandlers.on_notification`), when configured.

Both paths record an object once per (key, ETag) and write its one ``feed.received`` (a
one-vendor update, ``run_id`` None) to the outbox in that transaction
(:class:`~relay_ingest.adapters.drops_repository.DropsRepository`), so a drop seen by both,
or by two replicas, is announced once. A tenant whose poll fails is logged and polled again
next interval; the others go on.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from relay_ingest.adapters.inbound_listing import ListedPage
from relay_ingest.domain.bucket_notifications import NotificationError, created_objects
from relay_ingest.domain.drops import (
    NOTIFICATION,
    POLL,
    BucketObject,
    Drop,
    Watch,
    drops,
    next_resume_after,
    tenant_inbound_prefix,
    tenant_of,
)
from relay_ingest.pull_handlers import PullHandlers
from relay_ingest.schedule_handlers import ScheduleHandlers
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import TenantConfigured
from relay_shared.outbox import Outbox, Publisher

log = structlog.get_logger(__name__)


class InboundLister(Protocol):
    """Lists a bucket's inbound objects a page at a time (S3 ListObjectsV2)."""

    bucket: str

    async def page(self, prefix: str, start_after: str | None) -> ListedPage: ...


class Drops(Protocol):
    @property
    def outbox(self) -> Outbox: ...

    async def set_watch(
        self, tenant_id: str, config_version: int, vendors: Sequence[str], since: datetime
    ) -> None: ...

    async def watches(self) -> list[Watch]: ...

    async def watch(self, tenant_id: str) -> Watch | None: ...

    async def polled(self, tenant_id: str, resume_after: str | None) -> None: ...

    async def record(self, watch: Watch, found: Sequence[Drop], source: str) -> int: ...


@dataclass
class DropHandlers:
    configs: TenantConfigStore
    drops: Drops
    listing: InboundLister
    bus: Publisher
    concurrency: int = 16
    scheduling: ScheduleHandlers | None = None
    pulling: PullHandlers | None = None

    async def on_tenant_configured(self, event: TenantConfigured) -> None:
        """Watch the vendors whose ``inbound.watch`` is on in this config version, and keep
        the tenant's run schedule (``schedule.runs``) and its pulled vendors (https, sftp)."""
        if event.config_version is None:
            return
        config = await self.configs.load(event.tenant_id, event.config_version)
        vendors = [
            v.vendor_id
            for v in config.vendors
            if v.inbound is not None and v.inbound.type == "s3" and v.inbound.watch
        ]
        await self.drops.set_watch(
            event.tenant_id, event.config_version, vendors, event.occurred_at
        )
        if self.scheduling is not None:
            await self.scheduling.configure(event.tenant_id, event.config_version, config)
        if self.pulling is not None:
            await self.pulling.configure(event.tenant_id, event.config_version, config)

    async def poll_once(self) -> int:
        """One page per watched tenant, ``concurrency`` tenants at a time; returns how many
        drops were new."""
        gate = asyncio.Semaphore(self.concurrency)
        counts = await asyncio.gather(
            *(self._poll_tenant(watch, gate) for watch in await self.drops.watches())
        )
        new = sum(counts)
        if new:
            await self.publish_pending()
        return new

    async def _poll_tenant(self, watch: Watch, gate: asyncio.Semaphore) -> int:
        """The tenant's new drops (0 when its listing failed: logged, retried next round)."""
        async with gate:
            try:
                return await self._poll_page(watch)
            except (ClientError, BotoCoreError, OSError) as exc:
                log.warning(
                    "ingest.inbound_poll_failed", tenant_id=watch.tenant_id, error=repr(exc)
                )
                return 0

    async def _poll_page(self, watch: Watch) -> int:
        page = await self.listing.page(tenant_inbound_prefix(watch.tenant_id), watch.resume_after)
        new = await self.drops.record(watch, drops(watch, page.objects), POLL)
        keys = [item.key for item in page.objects]
        await self.drops.polled(watch.tenant_id, next_resume_after(keys, page.truncated))
        return new

    async def on_notification(self, payload: bytes) -> int:
        """A MinIO bucket notification: the created objects of watched vendors become drops
        (a malformed message is logged and dropped: the poll still finds the object)."""
        try:
            objects = created_objects(payload, self.listing.bucket)
        except NotificationError as exc:
            log.warning("ingest.bucket_notification_invalid", error=str(exc))
            return 0
        by_tenant: dict[str, list[BucketObject]] = defaultdict(list)
        for item in objects:
            tenant = tenant_of(item.key)
            if tenant is not None:
                by_tenant[tenant].append(item)
        new = 0
        for tenant_id, items in by_tenant.items():
            watch = await self.drops.watch(tenant_id)
            if watch is not None:
                new += await self.drops.record(watch, drops(watch, items), NOTIFICATION)
        if new:
            await self.publish_pending()
        return new

    async def publish_pending(self) -> int:
        return await self.drops.outbox.drain(self.bus.publish)
