"""Insights' wiring: built from settings, no I/O until :func:`main` runs it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from faststream.nats import NatsBroker

from relay_insights.adapters.database import InsightsDatabase
from relay_insights.adapters.outbox import Outbox
from relay_insights.handlers import InsightsHandlers
from relay_insights.settings import InsightsSettings
from relay_shared.bus import EventBus, register_consumer
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import InsightGenerated, OffersMerged, OrderShipped
from relay_shared.runtime import new_broker, open_resources, run_worker, stream_settings
from relay_shared.telemetry import configure_telemetry

SERVICE = "insights"
SETTINGS_TYPE = InsightsSettings
log = structlog.get_logger(__name__)


class InsightsApp:
    """The broker, its consumers and publisher; handlers are wired when resources open."""

    def __init__(self, settings: InsightsSettings) -> None:
        self.settings = settings
        self.broker: NatsBroker = new_broker(settings)
        self.bus = EventBus(
            self.broker, settings.nats_stream, emits=[InsightGenerated], service=SERVICE
        )
        self._handlers: InsightsHandlers | None = None
        streams = stream_settings(settings)
        register_consumer(
            self.broker,
            service=SERVICE,
            streams=streams,
            event_type=OffersMerged,
            handle=lambda event: self.handlers.on_offers_merged(event),
        )
        register_consumer(
            self.broker,
            service=SERVICE,
            streams=streams,
            event_type=OrderShipped,
            handle=lambda event: self.handlers.on_order_shipped(event),
        )

    @property
    def handlers(self) -> InsightsHandlers:
        if self._handlers is None:
            raise RuntimeError("insights handlers used before resources were opened")
        return self._handlers

    @asynccontextmanager
    async def wired(self) -> AsyncIterator[InsightsHandlers]:
        """Open the pool (migrated) and the bucket, wire the handlers, and keep draining the
        outbox in the background (on start, and every ``outbox_interval_s``)."""
        async with open_resources(
            self.settings, schema="insights", migrations="relay_insights.migrations", s3=True
        ) as resources:
            self._handlers = InsightsHandlers(
                store=resources.store,
                configs=TenantConfigStore(resources.store),
                database=InsightsDatabase(resources.pool),
                outbox=Outbox(resources.pool),
                bus=self.bus,
            )
            drainer = asyncio.create_task(self._drain_forever(self._handlers))
            try:
                yield self._handlers
            finally:
                drainer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await drainer

    async def _drain_forever(self, handlers: InsightsHandlers) -> None:
        interval = self.settings.outbox_interval_s
        while True:
            await asyncio.sleep(interval)
            try:
                published = await handlers.publish_pending()
            except Exception as exc:  # noqa: BLE001 - logged; the next round retries
                log.warning("outbox.drain_failed", error=repr(exc))
            else:
                if published:
                    log.info("outbox.drained", published=published)


def create_app(settings: InsightsSettings | None = None) -> InsightsApp:
    return InsightsApp(settings or InsightsSettings.from_env())


async def main() -> None:
    app = create_app()
    configure_telemetry(SERVICE, app.settings.log_level)
    await run_worker(app.broker, app.settings, app.wired())
