"""Sheets' wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relay_shared.config_store import TenantConfigStore
from relay_shared.events import InsightGenerated, OffersMerged, OrderShipped
from relay_shared.runtime import open_resources
from relay_shared.worker_app import WorkerApp
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.handlers import SheetsHandlers
from relay_sheets.settings import SheetsSettings

SETTINGS_TYPE = SheetsSettings


class SheetsApp(WorkerApp[SheetsSettings, SheetsHandlers]):
    """Keeps each channel's workbook current from the bus.

    The xlsx backend keeps its state in the workbooks themselves (idempotent by key), so
    sheets opens no database schema yet; the Google backend will keep its sync state in
    schema ``sheets``.
    """

    service = "sheets"

    def __init__(self, settings: SheetsSettings) -> None:
        super().__init__(settings)
        self.consume(OffersMerged, SheetsHandlers.on_offers_merged)
        self.consume(OrderShipped, SheetsHandlers.on_order_shipped)
        self.consume(InsightGenerated, SheetsHandlers.on_insight_generated)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[SheetsHandlers]:
        async with open_resources(self.settings, schema=None, migrations=None, s3=True) as res:
            yield SheetsHandlers(
                store=res.store,
                configs=TenantConfigStore(res.store),
                backend=XlsxBackend(self.settings.sheets_dir),
            )


def create_app(settings: SheetsSettings | None = None) -> SheetsApp:
    return SheetsApp(settings or SheetsSettings.from_env())


async def main() -> None:
    await create_app().serve()
