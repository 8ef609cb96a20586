"""Normalize's wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relay_normalize.adapters.sku_maps import SkuMaps
from relay_normalize.handlers import NormalizeHandlers
from relay_normalize.settings import NormalizeSettings
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import FeedReceived, RowsNormalized
from relay_shared.runtime import open_resources
from relay_shared.worker_app import WorkerApp

SETTINGS_TYPE = NormalizeSettings


class NormalizeApp(WorkerApp[NormalizeSettings, NormalizeHandlers]):
    """Consumes feed.received, emits rows.normalized. Owns S3 ``normalized/`` and the
    per-vendor reports; no database schema."""

    service = "normalize"

    def __init__(self, settings: NormalizeSettings) -> None:
        super().__init__(settings, emits=[RowsNormalized])
        self.consume(
            FeedReceived,
            NormalizeHandlers.on_feed_received,
            NormalizeHandlers.on_feed_failed,
            max_workers=settings.normalize_workers,
        )

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[NormalizeHandlers]:
        async with open_resources(self.settings, schema=None, migrations=None, s3=True) as res:
            yield NormalizeHandlers(
                store=res.store,
                configs=TenantConfigStore(res.store),
                bus=self.bus,
                sku_maps=SkuMaps(
                    res.store,
                    max_bytes=self.settings.normalize_max_sku_map_bytes,
                    cache_bytes=self.settings.normalize_sku_map_cache_bytes,
                ),
                limits=self.settings.feed_limits(),
            )


def create_app(settings: NormalizeSettings | None = None) -> NormalizeApp:
    return NormalizeApp(settings or NormalizeSettings.from_env())


async def main() -> None:
    await create_app().serve()
