"""Pricing's wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relay_pricing.adapters.assembly_repository import AssemblyRepository
from relay_pricing.adapters.history import ChangeHistory
from relay_pricing.handlers import PricingHandlers
from relay_pricing.run_changes import RunChanges
from relay_pricing.run_preview import RunPreview
from relay_pricing.settings import PricingSettings
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import OffersMerged, PreviewReady, RowsNormalized, RunFailed
from relay_shared.worker_app import WorkerApp

SETTINGS_TYPE = PricingSettings


class PricingApp(WorkerApp[PricingSettings, PricingHandlers]):
    """Consumes rows.normalized; emits offers.merged or run.failed. Owns schema ``pricing``
    and S3 ``outputs/`` and ``reports/``."""

    service = "pricing"

    def __init__(self, settings: PricingSettings) -> None:
        super().__init__(settings, emits=[OffersMerged, PreviewReady, RunFailed])
        self.consume(
            RowsNormalized, PricingHandlers.on_rows_normalized, PricingHandlers.on_rows_failed
        )

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[PricingHandlers]:
        async with self.resources_with_outbox("pricing", "relay_pricing.migrations") as res:
            history = ChangeHistory(res.pool)
            yield PricingHandlers(
                store=res.store,
                configs=TenantConfigStore(res.store),
                assembly=AssemblyRepository(res.pool),
                bus=self.bus,
                changes=RunChanges(res.store, history),
                previews=RunPreview(res.store, history),
            )


def create_app(settings: PricingSettings | None = None) -> PricingApp:
    return PricingApp(settings or PricingSettings.from_env())


async def main() -> None:
    await create_app().serve()
