"""Wiring of ingest's ShipStation fetch: its consumer and publisher on ingest's broker (built
from settings, no I/O), its HTTP session and handlers when resources open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import structlog
from faststream.nats import NatsBroker

from relay_ingest.adapters.shipstation_api import ShipstationApi
from relay_ingest.adapters.shipstation_shipments import ShipmentsRepository
from relay_ingest.settings import IngestSettings
from relay_ingest.shipstation_handlers import ShipstationHandlers, UrlPolicy
from relay_ingest.shipstation_settings import shipstation_settings
from relay_shared.bus import EventBus, TestPause, register_consumer
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import OrderShipped, ShipstationNotified
from relay_shared.runtime import Resources, stream_settings
from relay_shared.secrets_box import SecretsBox, SecretsBoxError

SERVICE = "ingest"
log = structlog.get_logger(__name__)


class ShipstationFetch:
    """Consumes ``shipstation.notified`` (durable ``ingest-shipstation-notified``) and
    publishes ``order.shipped``."""

    def __init__(self, broker: NatsBroker, settings: IngestSettings) -> None:
        self.settings = shipstation_settings(settings)
        self.bus = EventBus(broker, settings.nats_stream, emits=[OrderShipped], service=SERVICE)
        self._handlers: ShipstationHandlers | None = None
        register_consumer(
            broker,
            service=SERVICE,
            streams=stream_settings(settings),
            event_type=ShipstationNotified,
            handle=lambda event: self.handlers.on_notified(event),
            test_pause=TestPause.from_settings(settings, SERVICE),
        )

    @property
    def handlers(self) -> ShipstationHandlers:
        if self._handlers is None:
            raise RuntimeError("ShipStation handlers used before resources were opened")
        return self._handlers

    def _box(self) -> SecretsBox | None:
        try:
            return SecretsBox(self.settings.secret_key.get_secret_value())
        except SecretsBoxError:
            log.warning("shipstation.no_secret_key")
            return None

    @asynccontextmanager
    async def opened(self, resources: Resources) -> AsyncIterator[ShipstationHandlers]:
        settings = self.settings
        timeout = aiohttp.ClientTimeout(total=settings.shipstation_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._handlers = ShipstationHandlers(
                configs=TenantConfigStore(resources.store),
                box=self._box(),
                source=ShipstationApi(
                    session,
                    per_minute=settings.shipstation_requests_per_min,
                    max_wait_s=settings.shipstation_max_wait_s,
                ),
                ledger=ShipmentsRepository(resources.pool),
                bus=self.bus,
                url_policy=UrlPolicy(settings.shipstation_hosts, settings.shipstation_allow_http),
            )
            try:
                yield self._handlers
            finally:
                self._handlers = None
