"""Insights' wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relay_insights.adapters.database import InsightsDatabase
from relay_insights.handlers import InsightsHandlers
from relay_insights.settings import InsightsSettings
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import InsightGenerated, OffersMerged, OrderShipped
from relay_shared.outbox import Outbox
from relay_shared.runtime import open_resources
from relay_shared.worker_app import WorkerApp

SETTINGS_TYPE = InsightsSettings


class InsightsApp(WorkerApp[InsightsSettings, InsightsHandlers]):
    """Consumes offers.merged and order.shipped; emits insight.generated through an outbox.
    Owns schema ``insights``."""

    service = "insights"

    def __init__(self, settings: InsightsSettings) -> None:
        super().__init__(settings, emits=[InsightGenerated])
        self.consume(OffersMerged, InsightsHandlers.on_offers_merged)
        self.consume(OrderShipped, InsightsHandlers.on_order_shipped)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[InsightsHandlers]:
        """Open the pool (migrated) and the bucket, build the handlers, and keep draining the
        outbox in the background (on start, and every ``outbox_interval_s``)."""
        async with open_resources(
            self.settings, schema="insights", migrations="relay_insights.migrations", s3=True
        ) as resources:
            handlers = InsightsHandlers(
                store=resources.store,
                configs=TenantConfigStore(resources.store),
                database=InsightsDatabase(resources.pool),
                outbox=Outbox(resources.pool),
                bus=self.bus,
            )
            async with handlers.outbox.draining(self.bus.publish, self.settings.outbox_interval_s):
                yield handlers


def create_app(settings: InsightsSettings | None = None) -> InsightsApp:
    return InsightsApp(settings or InsightsSettings.from_env())


async def main() -> None:
    await create_app().serve()
