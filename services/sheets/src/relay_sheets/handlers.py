"""Sheets' handlers: load → decide (domain.records) → write the workbook."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from relay_shared.channel_config import ChannelSections, parse_channel_sections
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError
from relay_shared.events import InsightGenerated, OffersMerged, OrderShipped
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import ConfigError
from relay_sheets.adapters.backend import SheetBackend
from relay_sheets.domain.grid import WorksheetUpsert
from relay_sheets.domain.layout import (
    CHANNEL_WORKSHEETS,
    INSIGHTS,
    LISTINGS,
    ORDERS,
    SpreadsheetRef,
    UnsafeNameError,
    channel_spreadsheet,
    merged_feed_layout,
    merged_feed_spreadsheet,
)
from relay_sheets.domain.merged_feed import MergedFeed, MergedFeedError, parse_merged_feed
from relay_sheets.domain.records import (
    insight_change,
    layout_rows,
    listing_changes,
    merged_feed_changes,
    order_changes,
)

log = structlog.get_logger(__name__)


@dataclass
class SheetsHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    backend: SheetBackend

    async def on_offers_merged(self, event: OffersMerged) -> None:
        """The root "Merged feed" workbook, then each enabled channel's Listings."""
        sections = await self._sections(event.tenant_id, event.config_version)
        if sections.sheets.backend != "xlsx":
            log.warning("sheets.backend_unavailable", backend=sections.sheets.backend)
            return
        feed = await self._merged_feed(event.merged_key)
        root = _root_ref(event.tenant_id)
        upsert = WorksheetUpsert(merged_feed_layout(feed.columns), merged_feed_changes(feed))
        async with self.backend.locked(root):
            await self.backend.upsert_rows(root, [upsert])
        for name, channel in sections.enabled_channels().items():
            ref = _channel_ref(event.tenant_id, name)
            changes = listing_changes(feed, channel.allocation, event.occurred_at)
            async with self.backend.locked(ref):
                await self.backend.ensure_spreadsheet(ref, CHANNEL_WORKSHEETS)
                await self.backend.upsert_rows(ref, [WorksheetUpsert(LISTINGS, changes)])

    async def on_order_shipped(self, event: OrderShipped) -> None:
        """Orders rows for the order's new lines and, in the same write, Listings quantity
        and last_sold_at of the skus the sheet lists."""
        ref = _channel_ref(event.tenant_id, event.channel)
        async with self.backend.locked(ref):
            orders = layout_rows(ORDERS, await self.backend.read_rows(ref, ORDERS))
            listings = layout_rows(LISTINGS, await self.backend.read_rows(ref, LISTINGS))
            new_orders, sold = order_changes(event, orders, listings)
            await self.backend.ensure_spreadsheet(ref, CHANNEL_WORKSHEETS)
            await self.backend.upsert_rows(
                ref, [WorksheetUpsert(ORDERS, new_orders), WorksheetUpsert(LISTINGS, sold)]
            )

    async def on_insight_generated(self, event: InsightGenerated) -> None:
        """The Insights row of (kind, sku), updated in place."""
        ref = _channel_ref(event.tenant_id, event.channel)
        async with self.backend.locked(ref):
            rows = layout_rows(INSIGHTS, await self.backend.read_rows(ref, INSIGHTS))
            change = insight_change(event, rows)
            if change is None:
                log.info("insight.stale", insight_id=event.insight_id, status=event.status)
                return
            await self.backend.ensure_spreadsheet(ref, CHANNEL_WORKSHEETS)
            await self.backend.upsert_rows(ref, [WorksheetUpsert(INSIGHTS, [change])])

    async def _sections(self, tenant_id: str, version: int) -> ChannelSections:
        config = await self.configs.load(tenant_id, version)
        try:
            return parse_channel_sections(config)
        except ConfigError as exc:
            raise PermanentError(str(exc), code="invalid_config", version=version) from exc

    async def _merged_feed(self, key: str) -> MergedFeed:
        data = await self.store.get_bytes(key)
        try:
            return parse_merged_feed(data)
        except MergedFeedError as exc:
            raise PermanentError(str(exc), code="invalid_merged_feed", key=key) from exc


def _channel_ref(tenant_id: str, channel: str) -> SpreadsheetRef:
    try:
        return channel_spreadsheet(tenant_id, channel)
    except UnsafeNameError as exc:
        raise PermanentError(str(exc), code="unsafe_name") from exc


def _root_ref(tenant_id: str) -> SpreadsheetRef:
    try:
        return merged_feed_spreadsheet(tenant_id)
    except UnsafeNameError as exc:
        raise PermanentError(str(exc), code="unsafe_name") from exc
