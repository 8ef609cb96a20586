"""Sheets' handlers: each message becomes one edit of a spreadsheet (decide from its current
cells with ``domain.records``, then upsert), submitted to the coalescing writer; a handler
returns (and its message is acked) once its edit is saved."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from functools import partial

import structlog

from relay_shared import keys
from relay_shared.channel_config import ChannelConfig
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError
from relay_shared.events import (
    InsightGenerated,
    OffersMerged,
    OrderShipped,
    ReallocationChanged,
)
from relay_shared.merged_feed import MergedFeed, MergedFeedError, read_merged_feed
from relay_shared.storage import ObjectStore
from relay_sheets.adapters.backend import SheetEdit, WorkbookView
from relay_sheets.adapters.database import SheetsDatabase
from relay_sheets.adapters.sync_state import BackendWriters
from relay_sheets.domain.grid import WorksheetUpsert
from relay_sheets.domain.layout import (
    CHANNEL_WORKSHEETS,
    FEED_SUMMARY,
    INSIGHTS,
    LISTINGS,
    ORDERS,
    REALLOCATION,
    SpreadsheetRef,
    UnsafeNameError,
    channel_spreadsheet,
    merged_feed_layout,
    merged_feed_spreadsheet,
    reallocation_spreadsheet,
)
from relay_sheets.domain.long_feed import LongFeed, listing_updates, most_rows, read_long_feed
from relay_sheets.domain.records import (
    feed_summary_changes,
    insight_change_for,
    listing_changes,
    merged_feed_changes,
    order_changes_by_key,
    reallocation_change,
)

log = structlog.get_logger(__name__)

#: Upserts without changes: the channel workbook and its worksheets exist, in this order.
_CHANNEL_ENSURED = tuple(WorksheetUpsert(layout, []) for layout in CHANNEL_WORKSHEETS)


@dataclass
class SheetsHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    writers: BackendWriters
    database: SheetsDatabase

    async def on_offers_merged(self, event: OffersMerged) -> None:
        """The root "Merged feed" workbook and each enabled channel's Listings, on the
        backend the event's config version names (remembered for the tenant's orders)."""
        sections = await self.configs.load_channel_sections(event.tenant_id, event.config_version)
        google = sections.sheets.google
        await self.database.save_backend(
            event.tenant_id,
            event.config_version,
            sections.sheets.backend,
            google.shared_drive_id if google else None,
            google.share_with if google else [],
        )
        self.writers.forget(event.tenant_id)
        writer = self.writers.writer(sections.sheets.backend)
        # Every spreadsheet named first: a name that cannot be one fails the message before
        # anything is written.
        root_ref = _root_ref(event.tenant_id)
        channels = [
            (_channel_ref(event.tenant_id, name), channel)
            for name, channel in sections.enabled_channels().items()
        ]
        key = keys.tenant_key(event.tenant_id, event.merged_key)
        limit = self.writers.max_feed_rows(sections.sheets.backend)
        feed = await self._merged_feed(key, limit)
        root, edits = _feed_edits(feed, [c for _, c in channels], event, limit)
        writes = [writer.submit(root_ref, _fixed([root]))]
        writes.extend(
            writer.submit(ref, edit) for (ref, _), edit in zip(channels, edits, strict=True)
        )
        await _all(writes)

    async def on_order_shipped(self, event: OrderShipped) -> None:
        """Orders rows for the order's new lines and, in the same write, Listings quantity
        and last_sold_at of the skus the sheet lists."""
        ref = _channel_ref(event.tenant_id, event.channel)
        writer = await self.writers.for_tenant(event.tenant_id)
        await writer.submit(ref, partial(_order_edit, event))

    async def on_insight_generated(self, event: InsightGenerated) -> None:
        """The Insights row of (kind, sku), updated in place."""
        ref = _channel_ref(event.tenant_id, event.channel)
        writer = await self.writers.for_tenant(event.tenant_id)
        if not await writer.submit(ref, partial(_insight_edit, event)):
            log.info("insight.stale", insight_id=event.insight_id, status=event.status)

    async def on_reallocation_changed(self, event: ReallocationChanged) -> None:
        """The entry's row of the tenant's root "Reallocation" spreadsheet, updated in place."""
        try:
            ref = reallocation_spreadsheet(event.tenant_id)
        except UnsafeNameError as exc:
            raise _unsafe(exc) from exc
        writer = await self.writers.for_tenant(event.tenant_id)
        await writer.submit(ref, partial(_reallocation_edit, event))

    async def _merged_feed(self, key: str, limit: int) -> MergedFeed | LongFeed:
        """The feed as rows when it fits the sheets (``limit`` rows), else only its Listings
        columns (``domain.long_feed``: a million rows in about 100 MB, not 1 GB)."""
        data = await self.store.get_bytes(key)
        try:
            return await asyncio.to_thread(_read_feed, data, limit)
        except MergedFeedError as exc:
            raise PermanentError(str(exc), code="invalid_merged_feed", key=key) from exc


def _read_feed(data: bytes, limit: int) -> MergedFeed | LongFeed:
    if most_rows(data) <= limit:
        return read_merged_feed(data)
    long_feed = read_long_feed(data)
    if long_feed.rows <= limit:  # quoted line breaks made it look longer
        return read_merged_feed(data)
    return long_feed


def _feed_edits(
    feed: MergedFeed | LongFeed, channels: list[ChannelConfig], event: OffersMerged, limit: int
) -> tuple[WorksheetUpsert, list[SheetEdit]]:
    """The root's upsert and each channel's edit: the whole feed and its Listings when it
    fits, else the Summary tab and the Listings rows of the skus each channel lists."""
    if isinstance(feed, MergedFeed):
        root = WorksheetUpsert(merged_feed_layout(feed.columns), merged_feed_changes(feed))
        listings = [listing_changes(feed, c.allocation, event.occurred_at) for c in channels]
        return root, [_fixed([*_CHANNEL_ENSURED, WorksheetUpsert(LISTINGS, c)]) for c in listings]
    log.warning("sheets.feed_too_long", rows=feed.rows, limit=limit)
    changes = feed_summary_changes(feed.rows, event.run_id, event.occurred_at, limit)
    edits: list[SheetEdit] = [partial(_listed_updates, feed, channel) for channel in channels]
    return WorksheetUpsert(FEED_SUMMARY, changes), edits


def _listed_updates(
    feed: LongFeed, channel: ChannelConfig, view: WorkbookView
) -> list[WorksheetUpsert]:
    """A feed too long for the sheets: Listings rows of the skus the channel lists."""
    listed = {key for (key,) in view.keys(LISTINGS)}
    changes = listing_updates(feed, channel.allocation, listed)
    return [*_CHANNEL_ENSURED, WorksheetUpsert(LISTINGS, changes)]


def _order_edit(event: OrderShipped, view: WorkbookView) -> list[WorksheetUpsert]:
    new_orders, sold = order_changes_by_key(
        event,
        is_recorded=lambda key: view.find(ORDERS, key) is not None,
        listing_of=lambda sku: view.find(LISTINGS, (sku,)),
    )
    return [*_CHANNEL_ENSURED, WorksheetUpsert(ORDERS, new_orders), WorksheetUpsert(LISTINGS, sold)]


def _insight_edit(event: InsightGenerated, view: WorkbookView) -> list[WorksheetUpsert]:
    """Nothing at all (not even the worksheets) when the row already shows a later state."""
    change = insight_change_for(event, view.find(INSIGHTS, (event.kind, event.sku)))
    if change is None:
        return []
    return [*_CHANNEL_ENSURED, WorksheetUpsert(INSIGHTS, [change])]


def _reallocation_edit(event: ReallocationChanged, view: WorkbookView) -> list[WorksheetUpsert]:
    change = reallocation_change(event, view.find(REALLOCATION, (event.entry_id,)))
    return [WorksheetUpsert(REALLOCATION, [] if change is None else [change])]


def _fixed(upserts: list[WorksheetUpsert]) -> SheetEdit:
    """An edit that does not depend on the cells (a merged feed sets them outright)."""
    return lambda _view: upserts


async def _all(writes: Sequence[Awaitable[object]]) -> None:
    """Await every write, then raise the first failure (the others still completed)."""
    for outcome in await asyncio.gather(*writes, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


def _channel_ref(tenant_id: str, channel: str) -> SpreadsheetRef:
    """The channel's spreadsheet; a permanent failure (dead-lettered, never retried, no file
    written) when the tenant id or the channel is not of its shape."""
    try:
        return channel_spreadsheet(tenant_id, channel)
    except UnsafeNameError as exc:
        raise _unsafe(exc) from exc


def _root_ref(tenant_id: str) -> SpreadsheetRef:
    try:
        return merged_feed_spreadsheet(tenant_id)
    except UnsafeNameError as exc:
        raise _unsafe(exc) from exc


def _unsafe(exc: UnsafeNameError) -> PermanentError:
    """``invalid_channel`` / ``invalid_tenant``, naming the value refused."""
    return PermanentError(str(exc), code=f"invalid_{exc.kind}", **{exc.kind: exc.name})
