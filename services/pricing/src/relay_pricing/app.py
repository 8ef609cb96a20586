"""Pricing's wiring: built from settings, no I/O until :func:`main` runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.nats import NatsBroker

from relay_pricing.adapters.assembly_repository import AssemblyRepository
from relay_pricing.handlers import PricingHandlers
from relay_pricing.settings import PricingSettings
from relay_shared.bus import EventBus, TestPause, register_consumer
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import OffersMerged, RowsNormalized, RunFailed
from relay_shared.runtime import new_broker, open_resources, run_worker, stream_settings
from relay_shared.telemetry import configure_telemetry

SERVICE = "pricing"
SETTINGS_TYPE = PricingSettings


class PricingApp:
    """Consumes rows.normalized; emits offers.merged or run.failed. Owns schema ``pricing``
    and S3 ``outputs/`` and ``reports/``."""

    def __init__(self, settings: PricingSettings) -> None:
        self.settings = settings
        self.broker: NatsBroker = new_broker(settings)
        self.bus = EventBus(
            self.broker, settings.nats_stream, emits=[OffersMerged, RunFailed], service=SERVICE
        )
        self._handlers: PricingHandlers | None = None
        register_consumer(
            self.broker,
            service=SERVICE,
            streams=stream_settings(settings),
            event_type=RowsNormalized,
            handle=lambda event: self.handlers.on_rows_normalized(event),
            on_permanent=lambda event, error: self.handlers.on_rows_failed(event, error),
            test_pause=TestPause.from_settings(settings, SERVICE),
        )

    @property
    def handlers(self) -> PricingHandlers:
        if self._handlers is None:
            raise RuntimeError("pricing handlers used before resources were opened")
        return self._handlers

    @asynccontextmanager
    async def wired(self) -> AsyncIterator[PricingHandlers]:
        async with open_resources(
            self.settings, schema="pricing", migrations="relay_pricing.migrations", s3=True
        ) as res:
            self._handlers = PricingHandlers(
                store=res.store,
                configs=TenantConfigStore(res.store),
                assembly=AssemblyRepository(res.pool),
                bus=self.bus,
            )
            yield self._handlers


def create_app(settings: PricingSettings | None = None) -> PricingApp:
    return PricingApp(settings or PricingSettings.from_env())


async def main() -> None:
    app = create_app()
    configure_telemetry(SERVICE, app.settings.log_level)
    await run_worker(app.broker, app.settings, app.wired())
