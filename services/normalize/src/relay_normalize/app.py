"""Normalize's wiring: built from settings, no I/O until :func:`main` runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.nats import NatsBroker

from relay_normalize.handlers import NormalizeHandlers
from relay_normalize.settings import NormalizeSettings
from relay_shared.bus import EventBus, TestPause, register_consumer
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import FeedReceived, RowsNormalized
from relay_shared.runtime import new_broker, open_resources, run_worker, stream_settings
from relay_shared.telemetry import configure_telemetry

SERVICE = "normalize"
SETTINGS_TYPE = NormalizeSettings


class NormalizeApp:
    """Consumes feed.received, emits rows.normalized. Owns S3 ``normalized/`` and the
    per-vendor reports; no database schema."""

    def __init__(self, settings: NormalizeSettings) -> None:
        self.settings = settings
        self.broker: NatsBroker = new_broker(settings)
        self.bus = EventBus(
            self.broker, settings.nats_stream, emits=[RowsNormalized], service=SERVICE
        )
        self._handlers: NormalizeHandlers | None = None
        register_consumer(
            self.broker,
            service=SERVICE,
            streams=stream_settings(settings),
            event_type=FeedReceived,
            handle=lambda event: self.handlers.on_feed_received(event),
            on_permanent=lambda event, error: self.handlers.on_feed_failed(event, error),
            test_pause=TestPause.from_settings(settings, SERVICE),
        )

    @property
    def handlers(self) -> NormalizeHandlers:
        if self._handlers is None:
            raise RuntimeError("normalize handlers used before resources were opened")
        return self._handlers

    @asynccontextmanager
    async def wired(self) -> AsyncIterator[NormalizeHandlers]:
        async with open_resources(self.settings, schema=None, migrations=None, s3=True) as res:
            self._handlers = NormalizeHandlers(
                store=res.store, configs=TenantConfigStore(res.store), bus=self.bus
            )
            yield self._handlers


def create_app(settings: NormalizeSettings | None = None) -> NormalizeApp:
    return NormalizeApp(settings or NormalizeSettings.from_env())


async def main() -> None:
    app = create_app()
    configure_telemetry(SERVICE, app.settings.log_level)
    await run_worker(app.broker, app.settings, app.wired())
