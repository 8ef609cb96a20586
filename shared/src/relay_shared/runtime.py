"""Running a worker service: connect, declare streams, start consumers, stop cleanly.

A service's ``app.py`` builds its broker and subscribers from settings (no I/O), then hands
them to :func:`run_worker` together with an async context manager that opens its resources
(pool, bucket) and wires the handlers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import asyncpg
import structlog
from faststream.nats import NatsBroker

from relay_shared.bus.streams import StreamSettings, ensure_streams
from relay_shared.database import apply_migrations, create_pool
from relay_shared.settings import CommonSettings
from relay_shared.storage import ObjectStore, S3Settings, open_object_store

log = structlog.get_logger(__name__)


def stream_settings(settings: CommonSettings) -> StreamSettings:
    """The pipeline stream's limits (how consumers redeliver: ``settings.delivery_policy()``)."""
    return StreamSettings(
        name=settings.nats_stream,
        max_age_days=settings.stream_max_age_days,
        max_bytes=settings.stream_max_bytes,
        duplicate_window_s=settings.duplicate_window_s,
    )


def s3_settings(settings: CommonSettings) -> S3Settings:
    return S3Settings(
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


def new_broker(settings: CommonSettings) -> NatsBroker:
    """A broker that reconnects forever: a NATS restart must not kill a worker."""
    return NatsBroker(
        settings.nats_url,
        name=f"relay-{settings.service_name}",
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
    )


class ResourceNotOpenedError(RuntimeError):
    """A resource was asked for that :func:`open_resources` was told not to open (a bug)."""


@dataclass
class Resources:
    """What :func:`open_resources` opened; asking for one that was not opened is a bug."""

    pool_or_none: asyncpg.Pool | None
    store_or_none: ObjectStore | None

    @property
    def pool(self) -> asyncpg.Pool:
        if self.pool_or_none is None:
            raise ResourceNotOpenedError("resources were opened without a database schema")
        return self.pool_or_none

    @property
    def store(self) -> ObjectStore:
        if self.store_or_none is None:
            raise ResourceNotOpenedError("resources were opened without the object store")
        return self.store_or_none


@asynccontextmanager
async def open_resources(
    settings: CommonSettings, *, schema: str | None, migrations: str | None, s3: bool
) -> AsyncIterator[Resources]:
    """Open the service's pool (migrated) and object store; close them on exit."""
    pool: asyncpg.Pool | None = None
    if schema is not None:
        pool = await create_pool(settings.database_url, schema)
        if migrations is not None:
            await apply_migrations(pool, schema, migrations)
    try:
        if s3:
            async with open_object_store(s3_settings(settings)) as store:
                await store.ensure_bucket()
                yield Resources(pool_or_none=pool, store_or_none=store)
        else:
            yield Resources(pool_or_none=pool, store_or_none=None)
    finally:
        if pool is not None:
            await pool.close()


async def run_worker(
    broker: NatsBroker,
    settings: CommonSettings,
    wiring: AbstractAsyncContextManager[object],
) -> None:
    """Open resources (``wiring``), declare the streams, start consuming; run until
    cancelled, then stop consuming before closing resources."""
    async with wiring:
        connection = await broker.connect()
        await ensure_streams(connection.jetstream(), stream_settings(settings))
        await broker.start()
        log.info("service.started", nats=settings.nats_url)
        try:
            await asyncio.Event().wait()
        finally:
            await broker.stop()
            log.info("service.stopped")
