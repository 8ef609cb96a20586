"""Sheets' wiring: built from settings, no I/O until :func:`main` runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.nats import NatsBroker

from relay_shared.bus import register_consumer
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import InsightGenerated, OffersMerged, OrderShipped
from relay_shared.runtime import new_broker, open_resources, run_worker, stream_settings
from relay_shared.telemetry import configure_telemetry
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.handlers import SheetsHandlers
from relay_sheets.settings import SheetsSettings

SERVICE = "sheets"
SETTINGS_TYPE = SheetsSettings


class SheetsApp:
    """The broker and its consumers; handlers are wired when resources open.

    The xlsx backend keeps its state in the workbooks themselves (idempotent by key), so
    sheets opens no database schema yet; the Google backend will keep its sync state in
    schema ``sheets``.
    """

    def __init__(self, settings: SheetsSettings) -> None:
        self.settings = settings
        self.broker: NatsBroker = new_broker(settings)
        self._handlers: SheetsHandlers | None = None
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
        register_consumer(
            self.broker,
            service=SERVICE,
            streams=streams,
            event_type=InsightGenerated,
            handle=lambda event: self.handlers.on_insight_generated(event),
        )

    @property
    def handlers(self) -> SheetsHandlers:
        if self._handlers is None:
            raise RuntimeError("sheets handlers used before resources were opened")
        return self._handlers

    @asynccontextmanager
    async def wired(self) -> AsyncIterator[SheetsHandlers]:
        async with open_resources(self.settings, schema=None, migrations=None, s3=True) as res:
            self._handlers = SheetsHandlers(
                store=res.store,
                configs=TenantConfigStore(res.store),
                backend=XlsxBackend(self.settings.sheets_dir),
            )
            yield self._handlers


def create_app(settings: SheetsSettings | None = None) -> SheetsApp:
    return SheetsApp(settings or SheetsSettings.from_env())


async def main() -> None:
    app = create_app()
    configure_telemetry(SERVICE, app.settings.log_level)
    await run_worker(app.broker, app.settings, app.wired())
