"""Sheets' wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from relay_shared.background import running
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import (
    ChannelActed,
    InsightGenerated,
    ListingsImported,
    OffersMerged,
    OrderShipped,
    ReallocationChanged,
    SheetSynced,
    TenantConfigured,
)
from relay_shared.outbox import Outbox
from relay_shared.runtime import open_resources
from relay_shared.worker_app import WorkerApp
from relay_sheets.adapters.coalescing_writer import CoalescingWriter
from relay_sheets.adapters.database import SheetsDatabase
from relay_sheets.adapters.folder_lock import hold_folder_lock
from relay_sheets.adapters.google_metrics import GoogleMetrics
from relay_sheets.adapters.google_wiring import GoogleParts, google_parts
from relay_sheets.adapters.sync_state import GOOGLE, XLSX, BackendWriters, RecordedBackend
from relay_sheets.adapters.upload_scanner import UploadScanner
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.folder_handlers import FolderHandlers
from relay_sheets.handlers import SheetsHandlers
from relay_sheets.settings import SheetsSettings

SETTINGS_TYPE = SheetsSettings


class SheetsApp(WorkerApp[SheetsSettings, tuple[SheetsHandlers, FolderHandlers]]):
    """Keeps each channel's workbook current from the bus, on the tenant's backend (xlsx
    workbooks on disk, or Google spreadsheets in a shared drive); owns schema ``sheets``
    (folders, spreadsheets and their sync state), reported as ``sheet.synced``."""

    service = "sheets"

    def __init__(self, settings: SheetsSettings) -> None:
        super().__init__(settings, emits=[SheetSynced, ListingsImported])
        # Google requests by API and outcome, 429s: on /metrics when it is served.
        self.google_metrics = GoogleMetrics(None if self.metrics is None else self.metrics.registry)
        # A merged feed sets cells outright (last one wins): one at a time, in stream order.
        self.consume(OffersMerged, SheetsHandlers.on_offers_merged)
        # Orders and insights commute (keyed, only-forward upserts): many at once, so that
        # one workbook save serves all of them.
        workers = settings.consumer_workers
        self.consume(OrderShipped, SheetsHandlers.on_order_shipped, max_workers=workers)
        self.consume(InsightGenerated, SheetsHandlers.on_insight_generated, max_workers=workers)
        self.consume(
            ReallocationChanged, SheetsHandlers.on_reallocation_changed, max_workers=workers
        )
        self.consume(TenantConfigured, FolderHandlers.on_tenant_configured)
        self.consume(ChannelActed, FolderHandlers.on_channel_acted)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[tuple[SheetsHandlers, FolderHandlers]]:
        settings = self.settings
        async with AsyncExitStack() as stack:
            res = await stack.enter_async_context(
                open_resources(
                    settings, schema="sheets", migrations="relay_sheets.migrations", s3=True
                )
            )
            if settings.sheets_dir_lock:
                await stack.enter_async_context(hold_folder_lock(res.pool, settings.sheets_dir))
            database = SheetsDatabase(res.pool)
            google = google_parts(settings, database, self.google_metrics)
            writers = await stack.enter_async_context(self._writers(database, google).closing())
            configs = TenantConfigStore(res.store)
            outbox = Outbox(res.pool)
            await stack.enter_async_context(
                outbox.draining(self.bus.publish, settings.outbox_interval_s)
            )
            if google is not None:
                scanner = UploadScanner(
                    google.api, database, res.store, max_rows=settings.upload_max_rows
                )
                # the channel folders scanned for uploaded spreadsheets in the background
                scanning = scanner.scan_forever(settings.google_scan_interval_s)
                await stack.enter_async_context(running(scanning))
            yield (
                SheetsHandlers(res.store, configs, writers, database),
                FolderHandlers(
                    database,
                    configs,
                    res.store,
                    writers,
                    None if google is None else google.drive,
                    settings.sheets_dir,
                ),
            )

    def _writers(self, database: SheetsDatabase, google: GoogleParts | None) -> BackendWriters:
        settings = self.settings
        xlsx = CoalescingWriter(
            RecordedBackend(
                XlsxBackend(settings.sheets_dir, cache_cells=settings.xlsx_cache_cells),
                database,
                XLSX,
            ),
            linger_s=settings.write_linger_s,
            min_interval_s=settings.write_min_interval_s,
            max_batch=settings.write_max_batch,
        )
        google_writer = None
        if google is not None:
            google_writer = CoalescingWriter(
                RecordedBackend(google.backend, database, GOOGLE),
                linger_s=settings.google_write_linger_s,
                min_interval_s=settings.google_write_min_interval_s,
                max_batch=settings.write_max_batch,
            )
        limits = {XLSX: settings.xlsx_max_feed_rows, GOOGLE: settings.google_max_feed_rows}
        return BackendWriters(database, xlsx, google_writer, max_feed_rows=limits)


def create_app(settings: SheetsSettings | None = None) -> SheetsApp:
    return SheetsApp(settings or SheetsSettings.from_env())


async def main() -> None:
    await create_app().serve()
