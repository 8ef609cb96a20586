"""The gateway: an aiohttp application (:mod:`relay_gateway.http`) and the FastStream broker
(:mod:`relay_gateway.handlers`: run tracking, dispatch, timeouts; the insights read model) in
one process. Built from settings with no I/O; resources open at startup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from faststream.nats import NatsBroker

from relay_gateway.adapters.announcements import Announcements
from relay_gateway.adapters.channel_actions import ChannelActionsReadModel
from relay_gateway.adapters.insights import InsightsRepository
from relay_gateway.adapters.orders import OrdersRepository
from relay_gateway.adapters.rate_limiter import RateLimiter
from relay_gateway.adapters.reallocation import ReallocationRepository
from relay_gateway.adapters.receipts import ReceiptsRepository
from relay_gateway.adapters.run_counts import RunStatusCounts
from relay_gateway.adapters.runs import RunsRepository
from relay_gateway.adapters.sheets import TenantSheets
from relay_gateway.adapters.sku_history import SkuHistory
from relay_gateway.adapters.tenants import TenantsRepository
from relay_gateway.adapters.vendor_pulls import TenantPulls
from relay_gateway.domain.api_keys import BOOTSTRAP_KEY_ID, hash_api_key
from relay_gateway.domain.signatures import parse_secrets
from relay_gateway.handlers import RunDispatcher, RunTimeouts, RunTracker
from relay_gateway.http.access import add_routes
from relay_gateway.http.api import ROUTES
from relay_gateway.http.bodies import BODY_READ_TIMEOUT
from relay_gateway.http.channel_actions import CHANNEL_ACTIONS
from relay_gateway.http.context import CONTEXT, ContextHolder, GatewayContext
from relay_gateway.http.health import OPENAPI_KEY
from relay_gateway.http.history import SKU_HISTORY
from relay_gateway.http.middleware import (
    correlation_middleware,
    error_middleware,
    input_middleware,
)
from relay_gateway.http.openapi import openapi_document
from relay_gateway.http.pulls import TENANT_PULLS
from relay_gateway.http.sheets import TENANT_SHEETS
from relay_gateway.settings import GatewaySettings
from relay_shared.background import stop
from relay_shared.bus import EventBus, ensure_streams, register_consumer
from relay_shared.bus.in_flight import InFlight
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import (
    ChannelActed,
    Event,
    FeedReceived,
    InsightGenerated,
    ListingsImported,
    OffersMerged,
    OrderRecorded,
    OrderShipped,
    PreviewReady,
    ReallocationChanged,
    RowsNormalized,
    RunFailed,
    RunRequested,
    SheetSynced,
    ShipstationNotified,
    TenantConfigured,
    VendorPulled,
)
from relay_shared.http_metrics import (
    METRICS_PATH_ITEM,
    http_metrics_middleware,
    metrics_handler,
)
from relay_shared.metrics import GatewayMetrics
from relay_shared.runtime import (
    Resources,
    broker_middlewares,
    connect_broker,
    new_broker,
    open_resources,
    stop_consuming,
    stream_settings,
)
from relay_shared.secrets_box import SecretsBox, SecretsBoxError
from relay_shared.telemetry import configure_telemetry
from relay_shared.tracing import start_tracing

SERVICE = "gateway"
#: Messages handled at once by a consumer (others: one). ``order.recorded`` comes one per
#: webhook: those waiting together are inserted with one statement
#: (:class:`~relay_gateway.adapters.orders.OrdersRepository`).
_CONSUMER_WORKERS: dict[type[Event], int] = {OrderRecorded: 64}
SETTINGS_TYPE = GatewaySettings
EMITS: list[type[Event]] = [
    RunRequested,
    OrderShipped,
    ShipstationNotified,
    TenantConfigured,
    ListingsImported,
]
log = structlog.get_logger(__name__)


def read_secrets_file(path: Path | None) -> list[str]:
    return [] if path is None else path.read_text("utf-8").splitlines()


class GatewayNotOpenError(RuntimeError):
    """Run tracking or the request context was used before the resources opened (a bug)."""


class GatewayApp:
    """The web application, the broker and the run tracker, wired when resources open."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.metrics = GatewayMetrics(SERVICE)
        self.broker: NatsBroker = new_broker(settings, middlewares=broker_middlewares(settings))
        self.bus = EventBus(
            self.broker, settings.nats_stream, emits=EMITS, service=SERVICE, metrics=self.metrics
        )
        self._tracker: RunTracker | None = None
        self.in_flight = InFlight()
        self.channel_actions = ChannelActionsReadModel()
        self.sheets = TenantSheets()
        self.pulls = TenantPulls()
        self.sku_history = SkuHistory()
        self._register_consumers()
        self.holder = ContextHolder()
        self.web = web.Application(
            middlewares=[
                http_metrics_middleware(self.metrics),
                correlation_middleware,
                error_middleware,
                input_middleware,
            ]
        )
        self.web[BODY_READ_TIMEOUT] = settings.body_read_timeout_s
        self.web[CONTEXT] = self.holder
        self.web[OPENAPI_KEY] = openapi_document(ROUTES)
        self.web[CHANNEL_ACTIONS] = self.channel_actions
        self.web[TENANT_SHEETS] = self.sheets
        self.web[TENANT_PULLS] = self.pulls
        self.web[SKU_HISTORY] = self.sku_history
        add_routes(self.web, ROUTES)
        self.web.router.add_get("/metrics", metrics_handler(self.metrics))
        self.web[OPENAPI_KEY]["paths"]["/metrics"] = METRICS_PATH_ITEM
        self.web.cleanup_ctx.append(self._lifecycle)

    @property
    def tracker(self) -> RunTracker:
        if self._tracker is None:
            raise GatewayNotOpenError("run tracking used before resources were opened")
        return self._tracker

    @property
    def context(self) -> GatewayContext:
        if self.holder.context is None:
            raise GatewayNotOpenError("the gateway's resources are not open")
        return self.holder.context

    def _register_consumers(self) -> None:
        """Run tracking from every pipeline outcome, and the insights read model (each
        consumer redelivers by the one delivery policy of the ``APP_*`` settings)."""
        streams = stream_settings(self.settings)
        policy = self.settings.delivery_policy()
        routes: list[tuple[type[Event], Callable[[Any], Awaitable[None]]]] = [
            (FeedReceived, lambda event: self.tracker.on_feed_received(event)),
            (RowsNormalized, lambda event: self.tracker.on_rows_normalized(event)),
            (OffersMerged, self._on_offers_merged),
            (PreviewReady, lambda event: self.tracker.on_preview_ready(event)),
            (RunFailed, lambda event: self.tracker.on_run_failed(event)),
            (InsightGenerated, lambda event: self.context.insights.record(event)),
            (OrderRecorded, lambda event: self.context.orders.record(event)),
            (ReallocationChanged, lambda event: self.context.reallocation.record(event)),
            (ChannelActed, lambda event: self.channel_actions.record(event)),
            (SheetSynced, lambda event: self.sheets.record(event)),
            (VendorPulled, lambda event: self.pulls.record(event)),
        ]
        for event_type, handle in routes:
            register_consumer(
                self.broker,
                service=SERVICE,
                streams=streams,
                policy=policy,
                event_type=event_type,
                handle=handle,
                max_workers=_CONSUMER_WORKERS.get(event_type, 1),
                metrics=self.metrics,
                in_flight=self.in_flight,
            )

    async def _on_offers_merged(self, event: OffersMerged) -> None:
        """The SKU history read model first, so a run shown SUCCEEDED has its history."""
        await self.sku_history.record(event)
        await self.tracker.on_offers_merged(event)

    async def _lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        async with open_resources(
            self.settings, schema=SERVICE, migrations="relay_gateway.migrations", s3=True
        ) as resources:
            context = await self._open_context(resources)
            self.holder.context = context
            self.channel_actions.open(resources.pool)
            self.sheets.open(resources.pool)
            self.pulls.open(resources.pool)
            self.sku_history.open(resources.pool, resources.store)
            self._tracker = RunTracker(context.runs, context.dispatcher)
            self.metrics.on_scrape(lambda: RunStatusCounts(resources.pool).refresh(self.metrics))
            await self.broker.start()
            sweepers = self._start_sweepers(context, self._tracker)
            log.info("gateway.started", nats=self.settings.nats_url)
            try:
                yield
            finally:
                for sweeper in sweepers:
                    sweeper.cancel()
                for sweeper in sweepers:
                    await stop(sweeper)
                self.holder.context = None
                await stop_consuming(self.broker, self.in_flight)
                await context.receipts.close()
                await context.orders.close()
                log.info("gateway.stopped")

    def _start_sweepers(
        self, context: GatewayContext, tracker: RunTracker
    ) -> list[asyncio.Task[None]]:
        """The periodic sweeps: dispatching waiting runs, failing stuck ones."""
        timeouts = RunTimeouts(context.runs, tracker, self.settings.run_stuck_after_s)
        return [
            asyncio.create_task(
                context.dispatcher.sweep_forever(self.settings.dispatch_interval_s)
            ),
            asyncio.create_task(timeouts.sweep_forever(self.settings.run_stuck_sweep_s)),
        ]

    async def _open_context(self, resources: Resources) -> GatewayContext:
        connection = await connect_broker(self.broker, self.settings)
        js = connection.jetstream()
        await ensure_streams(js, stream_settings(self.settings))
        tenants = TenantsRepository(resources.pool)
        bootstrap = self.settings.bootstrap_admin_key
        if bootstrap is not None and bootstrap.get_secret_value():
            await tenants.ensure_platform_key(
                BOOTSTRAP_KEY_ID, hash_api_key(bootstrap.get_secret_value())
            )
        runs = RunsRepository(resources.pool)
        secrets = parse_secrets(
            self.settings.webhook_secrets, read_secrets_file(self.settings.webhook_secrets_file)
        )
        return GatewayContext(
            settings=self.settings,
            tenants=tenants,
            runs=runs,
            receipts=ReceiptsRepository(resources.pool),
            store=resources.store,
            configs=TenantConfigStore(resources.store),
            bus=self.bus,
            dispatcher=RunDispatcher(runs, self.bus, self.settings.run_concurrency_cap),
            webhook_secrets=secrets,
            nats=connection,
            rate_limiter=await RateLimiter.open(js, self.settings.webhook_rate_per_s),
            box=self._secrets_box(),
            insights=InsightsRepository(resources.pool),
            orders=OrdersRepository(resources.pool),
            reallocation=ReallocationRepository(resources.pool),
            announcements=Announcements(resources.pool),
        )

    def _secrets_box(self) -> SecretsBox | None:
        try:
            return SecretsBox(self.settings.secret_key.get_secret_value())
        except SecretsBoxError:
            log.warning("gateway.no_secret_key", effect="tenant secrets cannot be stored")
            return None


def create_app(settings: GatewaySettings | None = None) -> GatewayApp:
    return GatewayApp(settings or GatewaySettings.from_env())


async def serve(app: GatewayApp) -> None:
    """Listen on ``APP_HTTP_PORT`` until cancelled, then close everything."""
    runner = web.AppRunner(app.web, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, app.settings.http_host, app.settings.http_port)
        await site.start()
        log.info("gateway.listening", port=app.settings.http_port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def main() -> None:
    settings = GatewaySettings.from_env()
    configure_telemetry(SERVICE, settings.log_level)
    # Before the application is built: the aiohttp server instrumentation wraps it.
    tracing = start_tracing(SERVICE, settings.otel_exporter_otlp_endpoint)
    try:
        await serve(create_app(settings))
    finally:
        tracing.shutdown()
