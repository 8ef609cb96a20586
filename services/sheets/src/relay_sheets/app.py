"""Sheets' wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relay_shared.config_store import TenantConfigStore
from relay_shared.events import InsightGenerated, OffersMerged, OrderShipped
from relay_shared.runtime import open_resources
from relay_shared.worker_app import WorkerApp
from relay_sheets.adapters.coalescing_writer import CoalescingWriter
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
        # A merged feed sets cells outright (last one wins): one at a time, in stream order.
        self.consume(OffersMerged, SheetsHandlers.on_offers_merged)
        # Orders and insights commute (keyed, only-forward upserts): many at once, so that
        # one workbook save serves all of them.
        workers = settings.consumer_workers
        self.consume(OrderShipped, SheetsHandlers.on_order_shipped, max_workers=workers)
        self.consume(InsightGenerated, SheetsHandlers.on_insight_generated, max_workers=workers)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[SheetsHandlers]:
        settings = self.settings
        writer = CoalescingWriter(
            XlsxBackend(settings.sheets_dir),
            linger_s=settings.write_linger_s,
            min_interval_s=settings.write_min_interval_s,
            max_batch=settings.write_max_batch,
        )
        async with open_resources(settings, schema=None, migrations=None, s3=True) as res:
            try:
                yield SheetsHandlers(res.store, TenantConfigStore(res.store), writer)
            finally:
                await writer.aclose()


def create_app(settings: SheetsSettings | None = None) -> SheetsApp:
    return SheetsApp(settings or SheetsSettings.from_env())


async def main() -> None:
    await create_app().serve()
