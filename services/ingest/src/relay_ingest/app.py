"""Ingest's wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relay_ingest.adapters.run_feeds import RunFeedsRepository
from relay_ingest.drop_handlers import DropHandlers
from relay_ingest.drop_wiring import open_drop_handlers
from relay_ingest.handlers import IngestHandlers
from relay_ingest.pull_wiring import open_pull_handlers
from relay_ingest.settings import IngestSettings
from relay_ingest.shipstation_handlers import ShipstationHandlers
from relay_ingest.shipstation_wiring import open_shipstation_handlers
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import (
    FeedReceived,
    OrderShipped,
    RunFailed,
    RunRequested,
    ShipstationNotified,
    TenantConfigured,
    VendorPulled,
)
from relay_shared.worker_app import WorkerApp

SETTINGS_TYPE = IngestSettings

#: Ingest's jobs: pinning a run's feeds, fetching ShipStation shipments, picking up drops.
IngestHandlerObjects = tuple[IngestHandlers, ShipstationHandlers, DropHandlers]


class IngestApp(WorkerApp[IngestSettings, IngestHandlerObjects]):
    """Consumes run.requested, shipstation.notified and tenant.configured (which vendors'
    inbound prefixes it watches for drops, its run schedule, the vendors it pulls over
    https/sftp on their schedules); emits feed.received, run.failed,
    order.shipped, run.requested (scheduled runs) and vendor.pulled (each pulled vendor's
    state, for the gateway).
    Owns schema ``ingest`` and S3 ``inbound/``."""

    service = "ingest"

    def __init__(self, settings: IngestSettings) -> None:
        super().__init__(
            settings,
            emits=[FeedReceived, RunFailed, OrderShipped, RunRequested, VendorPulled],
        )
        self.consume(
            RunRequested, IngestHandlers.on_run_requested, IngestHandlers.on_run_request_failed
        )
        self.consume(ShipstationNotified, ShipstationHandlers.on_notified)
        self.consume(TenantConfigured, DropHandlers.on_tenant_configured)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[IngestHandlerObjects]:
        async with self.resources_with_outbox("ingest", "relay_ingest.migrations") as resources:
            runs = IngestHandlers(
                store=resources.store,
                configs=TenantConfigStore(resources.store),
                run_feeds=RunFeedsRepository(resources.pool),
                bus=self.bus,
            )
            async with (
                open_shipstation_handlers(self.settings, resources, self.bus) as fetch,
                open_pull_handlers(self.settings, resources, self.bus) as pulling,
                open_drop_handlers(self.settings, resources, self.bus, pulling) as dropped,
            ):
                yield runs, fetch, dropped


def create_app(settings: IngestSettings | None = None) -> IngestApp:
    return IngestApp(settings or IngestSettings.from_env())


async def main() -> None:
    await create_app().serve()
