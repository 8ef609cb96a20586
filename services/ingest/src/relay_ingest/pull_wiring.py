"""Opening ingest's vendor pulls: the S3 client they store into, the https and sftp sources,
the handlers and (``APP_PULL_TICK_S`` > 0) the tick that pulls what is due."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from relay_ingest.adapters.https_source import HttpsSource, ssl_context
from relay_ingest.adapters.pull_sink import BucketSink
from relay_ingest.adapters.pulls_repository import PullsRepository
from relay_ingest.adapters.sftp_source import SftpSource
from relay_ingest.drop_wiring import every
from relay_ingest.pull_handlers import PullHandlers, RetryPolicy
from relay_ingest.settings import IngestSettings
from relay_shared.background import running
from relay_shared.config_store import TenantConfigStore
from relay_shared.outbox import Publisher
from relay_shared.runtime import Resources, s3_settings
from relay_shared.secrets_box import SecretsBox, SecretsBoxError
from relay_shared.storage import open_s3_client


def _box(settings: IngestSettings) -> SecretsBox | None:
    try:
        return SecretsBox(settings.secret_key.get_secret_value())
    except SecretsBoxError:
        return None


@asynccontextmanager
async def open_pull_handlers(
    settings: IngestSettings, resources: Resources, bus: Publisher
) -> AsyncIterator[PullHandlers]:
    s3 = s3_settings(settings)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            open_s3_client(s3, read_timeout=60, max_pool_connections=32)
        )
        sink = BucketSink(client, s3.bucket)
        limit, timeout = settings.max_upload_bytes, settings.pull_timeout_s
        handlers = PullHandlers(
            configs=TenantConfigStore(resources.store),
            pulls=PullsRepository(resources.pool),
            sources={
                "https": HttpsSource(
                    sink,
                    ssl_context(settings.pull_ca_file),
                    settings.pull_allow_private,
                    timeout,
                    limit,
                ),
                "sftp": SftpSource(sink, timeout, limit),
            },
            box=_box(settings),
            bus=bus,
            retry=RetryPolicy(
                settings.pull_retry_base_s,
                settings.pull_max_attempts,
                lease=timedelta(seconds=timeout * 2 + 60),
            ),
            concurrency=settings.pull_concurrency,
        )
        if settings.pull_tick_s > 0:
            await stack.enter_async_context(
                running(every(settings.pull_tick_s, handlers.tick, "vendor_pulls"))
            )
        yield handlers
