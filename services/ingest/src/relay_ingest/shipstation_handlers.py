"""Ingest's ShipStation fetch: ``shipstation.notified`` → one ``order.shipped`` per shipment.

load (the tenant's config version: sealed keys, store → channel) → fetch every page of the
resource (shipment items included, paced) → decide per shipment (voided, unknown store, no
items, or emit) → save the decision, with the ``order.shipped`` of an emitted one written to
ingest's outbox in the same transaction (it is then announced) → drain the outbox after each
page (:mod:`relay_shared.outbox`). A shipment is emitted once: its event id is a function of tenant
and shipment id, and an announced shipment is final, however often ShipStation re-sends or
overlaps its notifications.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from relay_ingest.adapters.shipstation_api import Credentials
from relay_ingest.adapters.shipstation_shipments import ShipmentDecision
from relay_ingest.domain.shipments import (
    MAX_PAGES,
    SHIPMENT_RESOURCES,
    MalformedShipmentsError,
    Shipment,
    decide,
    order_shipped,
    page_url,
    parse_page,
    shipped_event_id,
)
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError
from relay_shared.events import ShipstationNotified
from relay_shared.outbox import Outbox, Publisher
from relay_shared.secrets_box import SecretsBox, SecretsBoxError
from relay_shared.shipstation_urls import ResourceUrlRefusedError, check_resource_url

log = structlog.get_logger(__name__)
SECTION = "shipstation"


class ShipmentsSource(Protocol):
    async def get_json(self, url: str, credentials: Credentials) -> Any: ...


class ShipmentsLedger(Protocol):
    async def record(self, decision: ShipmentDecision) -> bool: ...

    @property
    def outbox(self) -> Outbox: ...


@dataclass(frozen=True)
class UrlPolicy:
    hosts: str
    allow_http: bool


@dataclass(frozen=True)
class Account:
    credentials: Credentials
    store_channels: dict[str, str]


@dataclass
class ShipstationHandlers:
    configs: TenantConfigStore
    box: SecretsBox | None
    source: ShipmentsSource
    ledger: ShipmentsLedger
    bus: Publisher
    url_policy: UrlPolicy

    async def on_notified(self, event: ShipstationNotified) -> None:
        if event.resource_type not in SHIPMENT_RESOURCES:
            log.info("shipstation.resource_ignored", resource_type=event.resource_type)
            return
        try:
            check_resource_url(
                event.resource_url, self.url_policy.hosts, allow_http=self.url_policy.allow_http
            )
        except ResourceUrlRefusedError as exc:
            raise PermanentError(str(exc), code="resource_url_refused") from exc
        account = await self._account(event)
        page, pages = 1, 1
        while page <= min(pages, MAX_PAGES):
            url = page_url(event.resource_url, page)
            data = await self.source.get_json(url, account.credentials)
            try:
                parsed = parse_page(data)
            except MalformedShipmentsError as exc:
                raise PermanentError(str(exc), code="shipstation_malformed") from exc
            for shipment in parsed.shipments:
                await self._ship(event, shipment, account.store_channels)
            await self.ledger.outbox.drain(self.bus.publish)  # this page's, and any left over
            page, pages = page + 1, parsed.pages

    async def _account(self, event: ShipstationNotified) -> Account:
        if event.config_version is None:
            raise PermanentError("the notification names no config version", code="no_config")
        if self.box is None:
            raise PermanentError("APP_SECRET_KEY is not set", code="secrets_unavailable")
        config = await self.configs.load(event.tenant_id, event.config_version)
        section: Mapping[str, Any] = (
            {} if config.shipstation is None else config.shipstation.model_dump()
        )
        try:
            api_key = self.box.open_field({SECTION: section}, SECTION, "api_key")
            api_secret = self.box.open_field({SECTION: section}, SECTION, "api_secret")
        except SecretsBoxError as exc:
            raise PermanentError(str(exc), code="secrets_unreadable") from exc
        if not api_key or not api_secret:
            raise PermanentError("the config has no ShipStation API key", code="no_api_key")
        stores = section.get("store_channels") or {}
        channels = {str(store): str(channel) for store, channel in dict(stores).items()}
        return Account(Credentials(api_key, api_secret), channels)

    async def _ship(
        self, event: ShipstationNotified, shipment: Shipment, store_channels: dict[str, str]
    ) -> None:
        outcome = decide(shipment, store_channels)
        event_id = shipped_event_id(event.tenant_id, shipment.shipment_id)
        announce = None
        if outcome == "emit":
            announce = order_shipped(event, shipment, store_channels[shipment.store_id or ""])
        decision = ShipmentDecision(event.tenant_id, shipment, outcome, event_id, announce)
        announced = await self.ledger.record(decision)
        if announced or announce is None:
            log.info(
                "shipstation.shipment_skipped",
                shipment_id=shipment.shipment_id,
                outcome="announced" if announced else outcome,
            )
            return
        log.info("shipstation.shipment_emitted", shipment_id=shipment.shipment_id)
