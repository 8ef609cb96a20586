"""What request handlers use: repositories, the store, the bus. Built when resources open."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from nats.aio.client import Client as NatsClient

from relay_gateway.adapters.announcements import Announcements
from relay_gateway.adapters.insights import InsightsRepository
from relay_gateway.adapters.orders import OrdersRepository
from relay_gateway.adapters.rate_limiter import RateLimiter
from relay_gateway.adapters.reallocation import ReallocationRepository
from relay_gateway.adapters.receipts import ReceiptsRepository
from relay_gateway.adapters.runs import RunsRepository
from relay_gateway.adapters.tenants import TenantsRepository
from relay_gateway.handlers import RunDispatcher
from relay_gateway.http.errors import DependencyUnavailableError
from relay_gateway.settings import GatewaySettings
from relay_shared.bus import EventBus
from relay_shared.config_store import TenantConfigStore
from relay_shared.secrets_box import SecretsBox
from relay_shared.storage import ObjectStore


@dataclass
class GatewayContext:
    settings: GatewaySettings
    tenants: TenantsRepository
    runs: RunsRepository
    receipts: ReceiptsRepository
    store: ObjectStore
    configs: TenantConfigStore
    bus: EventBus
    dispatcher: RunDispatcher
    webhook_secrets: list[str]
    nats: NatsClient
    rate_limiter: RateLimiter
    box: SecretsBox | None
    insights: InsightsRepository
    orders: OrdersRepository
    reallocation: ReallocationRepository
    announcements: Announcements


@dataclass
class ContextHolder:
    """Set on the application when it is built; filled when its resources open."""

    context: GatewayContext | None = None


CONTEXT = web.AppKey("gateway_context", ContextHolder)
CORRELATION_ID = web.RequestKey("correlation_id", str)


def context_of(request: web.Request) -> GatewayContext:
    context = request.app[CONTEXT].context
    if context is None:
        raise DependencyUnavailableError("the gateway is starting")
    return context


def correlation_id_of(request: web.Request) -> str:
    value: str = request.get(CORRELATION_ID, "")
    return value
