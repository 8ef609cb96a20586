"""Ingest's wiring: built from settings, no I/O until :func:`main` runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.nats import NatsBroker

from relay_ingest.adapters.run_feeds import RunFeedsRepository
from relay_ingest.handlers import IngestHandlers
from relay_ingest.settings import IngestSettings
from relay_ingest.shipstation_wiring import ShipstationFetch
from relay_shared.bus import EventBus, TestPause, register_consumer
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import FeedReceived, RunFailed, RunRequested
from relay_shared.runtime import new_broker, open_resources, run_worker, stream_settings
from relay_shared.telemetry import configure_telemetry

SERVICE = "ingest"
SETTINGS_TYPE = IngestSettings


class IngestApp:
    """The broker, its consumers and publishers; handlers are wired when resources open."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.broker: NatsBroker = new_broker(settings)
        self.bus = EventBus(
            self.broker, settings.nats_stream, emits=[FeedReceived, RunFailed], service=SERVICE
        )
        self._handlers: IngestHandlers | None = None
        self.shipstation = ShipstationFetch(self.broker, settings)
        register_consumer(
            self.broker,
            service=SERVICE,
            streams=stream_settings(settings),
            event_type=RunRequested,
            handle=lambda event: self.handlers.on_run_requested(event),
            on_permanent=lambda event, error: self.handlers.on_run_request_failed(event, error),
            test_pause=TestPause.from_settings(settings, SERVICE),
        )

    @property
    def handlers(self) -> IngestHandlers:
        if self._handlers is None:
            raise RuntimeError("ingest handlers used before resources were opened")
        return self._handlers

    @asynccontextmanager
    async def wired(self) -> AsyncIterator[IngestHandlers]:
        async with open_resources(
            self.settings, schema="ingest", migrations="relay_ingest.migrations", s3=True
        ) as resources:
            self._handlers = IngestHandlers(
                store=resources.store,
                configs=TenantConfigStore(resources.store),
                run_feeds=RunFeedsRepository(resources.pool),
                bus=self.bus,
            )
            async with self.shipstation.opened(resources):
                yield self._handlers


def create_app(settings: IngestSettings | None = None) -> IngestApp:
    return IngestApp(settings or IngestSettings.from_env())


async def main() -> None:
    app = create_app()
    configure_telemetry(SERVICE, app.settings.log_level)
    await run_worker(app.broker, app.settings, app.wired())
