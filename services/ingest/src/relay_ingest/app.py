"""Ingest's wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from relay_ingest.adapters.run_feeds import RunFeedsRepository
from relay_ingest.handlers import IngestHandlers
from relay_ingest.settings import IngestSettings
from relay_ingest.shipstation_handlers import ShipstationHandlers
from relay_ingest.shipstation_wiring import open_shipstation_handlers
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import RelayError
from relay_shared.events import (
    FeedReceived,
    OrderShipped,
    RunFailed,
    RunRequested,
    ShipstationNotified,
)
from relay_shared.runtime import open_resources
from relay_shared.worker_app import WorkerApp

SETTINGS_TYPE = IngestSettings


@dataclass(frozen=True)
class IngestWiring:
    """Ingest's two jobs: pinning a run's feeds, and fetching ShipStation shipments."""

    runs: IngestHandlers
    shipstation: ShipstationHandlers

    async def on_run_requested(self, event: RunRequested) -> None:
        await self.runs.on_run_requested(event)

    async def on_run_request_failed(self, event: RunRequested, error: RelayError) -> None:
        await self.runs.on_run_request_failed(event, error)

    async def on_shipstation_notified(self, event: ShipstationNotified) -> None:
        await self.shipstation.on_notified(event)


class IngestApp(WorkerApp[IngestSettings, IngestWiring]):
    """Consumes run.requested and shipstation.notified; emits feed.received, run.failed and
    order.shipped. Owns schema ``ingest`` and S3 ``inbound/``."""

    service = "ingest"

    def __init__(self, settings: IngestSettings) -> None:
        super().__init__(settings, emits=[FeedReceived, RunFailed, OrderShipped])
        self.consume(
            RunRequested, IngestWiring.on_run_requested, IngestWiring.on_run_request_failed
        )
        self.consume(ShipstationNotified, IngestWiring.on_shipstation_notified)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[IngestWiring]:
        async with open_resources(
            self.settings, schema="ingest", migrations="relay_ingest.migrations", s3=True
        ) as resources:
            runs = IngestHandlers(
                store=resources.store,
                configs=TenantConfigStore(resources.store),
                run_feeds=RunFeedsRepository(resources.pool),
                bus=self.bus,
            )
            async with open_shipstation_handlers(self.settings, resources, self.bus) as fetch:
                yield IngestWiring(runs=runs, shipstation=fetch)


def create_app(settings: IngestSettings | None = None) -> IngestApp:
    return IngestApp(settings or IngestSettings.from_env())


async def main() -> None:
    await create_app().serve()
