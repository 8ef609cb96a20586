"""Insights' wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relay_insights.adapters.database import InsightsDatabase
from relay_insights.handlers import InsightsHandlers
from relay_insights.scheduler import DailyScheduler
from relay_insights.settings import InsightsSettings
from relay_shared.background import running
from relay_shared.clock import clock_from_setting
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import (
    ChannelActed,
    InsightGenerated,
    ListingsImported,
    OffersMerged,
    OrderRecorded,
    OrderShipped,
    ReallocationChanged,
    ReallocationClaimRequested,
    TenantConfigured,
)
from relay_shared.outbox import Outbox
from relay_shared.runtime import open_resources
from relay_shared.worker_app import WorkerApp

SETTINGS_TYPE = InsightsSettings


class InsightsApp(WorkerApp[InsightsSettings, InsightsHandlers]):
    """Consumes offers.merged, order.shipped, listings.imported, channel.acted,
    reallocation.claim_requested and tenant.configured; emits insight.generated,
    order.recorded and reallocation.changed through an outbox, and runs the daily evaluation.
    Owns schema ``insights``."""

    service = "insights"

    def __init__(self, settings: InsightsSettings) -> None:
        super().__init__(settings, emits=[InsightGenerated, OrderRecorded, ReallocationChanged])
        self.consume(OffersMerged, InsightsHandlers.on_offers_merged)
        # Many orders at once, so that those of one tenant waiting together share one
        # transaction (their lines are keyed and their sales subtract, whatever the order;
        # within a tenant they are recorded in the order received).
        self.consume(
            OrderShipped, InsightsHandlers.on_order_shipped, max_workers=settings.order_workers
        )
        self.consume(ListingsImported, InsightsHandlers.on_listings_imported)
        self.consume(ChannelActed, InsightsHandlers.on_channel_acted)
        self.consume(ReallocationClaimRequested, InsightsHandlers.on_claim_requested)
        self.consume(TenantConfigured, InsightsHandlers.on_tenant_configured)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[InsightsHandlers]:
        """Open the pool (migrated) and the bucket, build the handlers, keep draining the
        outbox in the background (on start, and every ``outbox_interval_s``) and run the
        daily scheduler (every ``evaluate_tick_s``)."""
        async with open_resources(
            self.settings, schema="insights", migrations="relay_insights.migrations", s3=True
        ) as resources:
            handlers = InsightsHandlers(
                store=resources.store,
                configs=TenantConfigStore(resources.store),
                database=InsightsDatabase(resources.pool),
                outbox=Outbox(resources.pool),
                bus=self.bus,
                clock=clock_from_setting(self.settings.clock_offset_file),
                batch_size=self.settings.evaluate_batch_size,
                order_batch_size=self.settings.order_batch_size,
            )
            scheduler = DailyScheduler(handlers, self.settings.evaluate_tick_s)
            draining = handlers.outbox.draining(self.bus.publish, self.settings.outbox_interval_s)
            async with draining, running(scheduler.run_forever()):
                yield handlers


def create_app(settings: InsightsSettings | None = None) -> InsightsApp:
    return InsightsApp(settings or InsightsSettings.from_env())


async def main() -> None:
    await create_app().serve()
