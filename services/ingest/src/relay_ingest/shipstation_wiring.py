"""Opening ingest's ShipStation fetch: its HTTP session and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import structlog

from relay_ingest.adapters.shipstation_api import ShipstationApi
from relay_ingest.adapters.shipstation_shipments import ShipmentsRepository
from relay_ingest.settings import IngestSettings
from relay_ingest.shipstation_handlers import ShipstationHandlers, UrlPolicy
from relay_shared.bus import EventBus
from relay_shared.config_store import TenantConfigStore
from relay_shared.runtime import Resources
from relay_shared.secrets_box import SecretsBox, SecretsBoxError

log = structlog.get_logger(__name__)


def _box(settings: IngestSettings) -> SecretsBox | None:
    try:
        return SecretsBox(settings.secret_key.get_secret_value())
    except SecretsBoxError:
        log.warning("shipstation.no_secret_key")
        return None


@asynccontextmanager
async def open_shipstation_handlers(
    settings: IngestSettings, resources: Resources, bus: EventBus
) -> AsyncIterator[ShipstationHandlers]:
    """The ShipStation fetch's HTTP session and handlers (consumer of
    ``shipstation.notified``, publisher of ``order.shipped``)."""
    timeout = aiohttp.ClientTimeout(total=settings.shipstation_timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield ShipstationHandlers(
            configs=TenantConfigStore(resources.store),
            box=_box(settings),
            source=ShipstationApi(
                session,
                per_minute=settings.shipstation_requests_per_min,
                max_wait_s=settings.shipstation_max_wait_s,
            ),
            ledger=ShipmentsRepository(resources.pool),
            bus=bus,
            url_policy=UrlPolicy(settings.shipstation_hosts, settings.shipstation_allow_http),
        )
