"""Channels' wiring: built from settings, no I/O until it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import asyncpg
import structlog

from relay_channels.adapters.amazon import AmazonClient
from relay_channels.adapters.call_metrics import MarketplaceMetrics
from relay_channels.adapters.database import ChannelsDatabase
from relay_channels.adapters.ebay import EbayClient
from relay_channels.adapters.marketplace_http import CallLimits
from relay_channels.adapters.marketplaces import Marketplaces
from relay_channels.adapters.merged_feeds import MergedFeeds
from relay_channels.adapters.rate_limit import SharedBuckets
from relay_channels.handlers import ChannelsHandlers
from relay_channels.settings import ChannelsSettings
from relay_channels.sweep import DeferredSweep
from relay_shared.background import running
from relay_shared.clock import clock_from_setting
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import (
    ChannelActed,
    InsightGenerated,
    OffersMerged,
    ReallocationChanged,
    ReallocationClaimRequested,
    TenantConfigured,
)
from relay_shared.outbox import Outbox
from relay_shared.runtime import open_resources
from relay_shared.secrets_box import SecretsBox, SecretsBoxError
from relay_shared.storage import ObjectStore
from relay_shared.worker_app import WorkerApp

SETTINGS_TYPE = ChannelsSettings
log = structlog.get_logger(__name__)


class ChannelsApp(WorkerApp[ChannelsSettings, ChannelsHandlers]):
    """Consumes insight.generated and reallocation.changed (and, to know each tenant's latest
    config and merged feed, tenant.configured and offers.merged); emits channel.acted and
    reallocation.claim_requested through an outbox. Owns schema ``channels`` and the S3
    prefix ``tenants/{t}/channels/``."""

    service = "channels"

    def __init__(self, settings: ChannelsSettings) -> None:
        super().__init__(settings, emits=[ChannelActed, ReallocationClaimRequested])
        workers = settings.channels_workers
        registry = self.metrics.registry if self.metrics is not None else None
        self.marketplace_metrics = MarketplaceMetrics(registry)
        self.consume(TenantConfigured, ChannelsHandlers.on_tenant_configured)
        self.consume(OffersMerged, ChannelsHandlers.on_offers_merged)
        self.consume(
            InsightGenerated,
            ChannelsHandlers.on_insight_generated,
            ChannelsHandlers.on_gave_up,
            max_workers=workers,
        )
        self.consume(
            ReallocationChanged,
            ChannelsHandlers.on_reallocation_changed,
            ChannelsHandlers.on_pull_gave_up,
            max_workers=workers,
        )

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[ChannelsHandlers]:
        """Open the pool (migrated), the bucket and the marketplaces' HTTP session; drain
        the outbox and sweep the deferred actions in the background."""
        settings = self.settings
        async with (
            open_resources(
                settings, schema="channels", migrations="relay_channels.migrations", s3=True
            ) as resources,
            aiohttp.ClientSession() as session,
        ):
            handlers = ChannelsHandlers(
                configs=TenantConfigStore(resources.store),
                database=ChannelsDatabase(resources.pool, self._lease_s()),
                feeds=MergedFeeds(resources.store),
                marketplaces=self._marketplaces(session, resources.store, resources.pool),
                box=self._secrets_box(),
                outbox=Outbox(resources.pool),
                bus=self.bus,
                ebay_daily_revisions=settings.channels_ebay_daily_revisions,
                clock=clock_from_setting(settings.clock_offset_file),
            )
            sweep = DeferredSweep(handlers, settings.channels_sweep_interval_s)
            draining = handlers.outbox.draining(self.bus.publish, settings.outbox_interval_s)
            async with draining, running(sweep.run_forever()):
                yield handlers

    def _marketplaces(
        self, session: aiohttp.ClientSession, store: ObjectStore, pool: asyncpg.Pool
    ) -> Marketplaces:
        settings = self.settings
        limits = CallLimits(settings.channels_timeout_s, settings.channels_max_retry_wait_s)
        buckets = SharedBuckets(
            pool, "amazon", settings.channels_amazon_rate_per_s, settings.channels_amazon_burst
        )
        metrics = self.marketplace_metrics
        return Marketplaces(
            amazon=AmazonClient(
                session, settings.channels_amazon_auth_endpoint, limits, buckets, metrics
            ),
            ebay=EbayClient(session, settings.channels_ebay_endpoint, limits, metrics),
            store=store,
            amazon_endpoint=settings.channels_amazon_endpoint,
            ebay_endpoint=settings.channels_ebay_endpoint,
        )

    def _lease_s(self) -> float:
        """How long one attempt may hold an action: its calls (token, lookup, sends), each
        bounded by the timeout, and the 429 waits."""
        settings = self.settings
        return 4 * settings.channels_timeout_s + settings.channels_max_retry_wait_s + 30.0

    def _secrets_box(self) -> SecretsBox | None:
        try:
            return SecretsBox(self.settings.secret_key.get_secret_value())
        except SecretsBoxError:
            log.warning("channels.no_secret_key", effect="real marketplace calls will fail")
            return None


def create_app(settings: ChannelsSettings | None = None) -> ChannelsApp:
    return ChannelsApp(settings or ChannelsSettings.from_env())


async def main() -> None:
    await create_app().serve()
