"""Ingest's handlers: load → decide → save → emit.

Idempotent, and its state and its events cannot diverge:
- the run's one decision (which inbound file feeds each vendor) is pinned in ``run_feeds``
  with ``INSERT … ON CONFLICT DO NOTHING`` before anything is published, so a redelivered
  ``run.requested`` finds the same files even if a newer upload arrived meanwhile;
- each ``feed.received`` is derived only from the pinned row and the request (event id
  ``feed.received:<run>:<vendor>``, ``occurred_at``/``as_of`` from the request) and written to
  ingest's outbox in the pinning's transaction, then the outbox is drained
  (:mod:`relay_shared.outbox`); a replay writes no event twice (same event id) and drains
  what a crash left pending, with the same ``Nats-Msg-Id``;
- the message is acked only after all of this (publish-then-ack), so a crash anywhere
  replays the handler instead of losing a feed.

Defence in depth: every prefix listed and every key pinned or announced for a tenant must lie
under ``tenants/{tenant}/`` (:func:`relay_shared.keys.tenant_key`, checked before the read).
One that does not fails the run permanently (``foreign_key``, naming the vendor but never the
key, so the error cannot tell whether something exists elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from relay_ingest.domain.pinning import (
    PinnedFeed,
    UnknownVendorError,
    latest_inbound,
    vendors_for_run,
)
from relay_shared import identifiers, keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError, RelayError
from relay_shared.events import Event, FeedReceived, RunRequested, stage_event_id
from relay_shared.outbox import Outbox, Publisher
from relay_shared.run_failure import fail_run
from relay_shared.storage import ObjectStore


class RunFeedsUnit(Protocol):
    async def pin(
        self, tenant_id: str, run_id: str, feeds: list[PinnedFeed], *, preview: bool = False
    ) -> list[PinnedFeed]: ...

    async def announce(self, events: Sequence[Event]) -> None: ...


class RunFeeds(Protocol):
    @property
    def outbox(self) -> Outbox: ...

    def unit(self) -> AbstractAsyncContextManager[RunFeedsUnit]: ...


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
        async with self.run_feeds.unit() as unit:
            pinned = await unit.pin(
                event.tenant_id, event.run_id, candidates, preview=event.preview
            )
            for feed in pinned:
                if feed.key is not None:
                    _own_key(event.tenant_id, feed.vendor_id, feed.key)
            await unit.announce([feed_received(event, feed, vendors) for feed in pinned])
        await self.publish_pending()

    async def publish_pending(self) -> int:
        """Publish what ingest's outbox holds (this run's events, and any left by a crash)."""
        return await self.run_feeds.outbox.drain(self.bus.publish)

    async def _latest_feed(self, tenant_id: str, vendor_id: str) -> PinnedFeed:
        prefix = _own_key(tenant_id, vendor_id, keys.inbound_prefix(tenant_id, vendor_id))
        listed = await self.store.list_objects(prefix)
        latest = latest_inbound(listed)
        if latest is None:
            return PinnedFeed(vendor_id, None, None)
        return PinnedFeed(vendor_id, _own_key(tenant_id, vendor_id, latest.key), latest.size)

    async def on_run_request_failed(self, event: RunRequested, error: RelayError) -> None:
        """A run that cannot even be ingested fails, with errors.json naming the cause."""
        vendor = error.details.get("vendor_id")
        await fail_run(
            self.store,
            self.bus,
            event,
            run_id=event.run_id,
            stage="ingest",
            error=error,
            vendor_id=vendor if isinstance(vendor, str) else None,
        )


def _own_key(tenant_id: str, vendor_id: str, key: str) -> str:
    """``key`` when it lies under the tenant's prefix; a permanent ``foreign_key`` failure of
    the run otherwise (the message names the vendor, never the key nor what is there)."""
    try:
        if not identifiers.matches(identifiers.TENANT_ID_PATTERN, tenant_id):
            raise keys.ForeignKeyError(tenant_id, key)
        return keys.tenant_key(tenant_id, key)
    except keys.ForeignKeyError:
        raise PermanentError(
            f"the inbound files of vendor {vendor_id[:64]!r} do not lie under the tenant's own"
            " prefix",
            code=keys.ForeignKeyError.code,
            vendor_id=vendor_id,
        ) from None


def feed_received(event: RunRequested, feed: PinnedFeed, vendors: list[str]) -> FeedReceived:
    """The vendor's feed.received: a function of the request and the pinned feed only."""
    return FeedReceived(
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
        force=event.force,
        full=event.full,
        preview=event.preview,
    )
