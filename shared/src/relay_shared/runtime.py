"""Running a worker service: connect, declare streams, start consumers, stop cleanly.

A service's ``app.py`` builds its broker and subscribers from settings (no I/O), then hands
them to :func:`run_worker` together with an async context manager that opens its resources
(pool, bucket) and wires the handlers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from faststream.nats import NatsBroker
from nats.aio.client import Client

from relay_shared.bus.in_flight import InFlight
from relay_shared.bus.streams import StreamSettings, ensure_streams
from relay_shared.database import apply_migrations, create_pool
from relay_shared.dependencies import reaching
from relay_shared.health import CURRENT_READINESS, Check, ReadinessChecks, serving_operations
from relay_shared.metrics import ServiceMetrics
from relay_shared.settings import CommonSettings
from relay_shared.storage import ObjectStore, S3Settings, open_object_store
from relay_shared.telemetry import library_logger

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


def new_broker(settings: CommonSettings, *, middlewares: Sequence[Any] = ()) -> NatsBroker:
    """A broker that reconnects forever (a NATS restart must not kill a worker), logging
    through the JSON logs (:func:`~relay_shared.telemetry.library_logger`), with the given
    FastStream middlewares (telemetry: :func:`broker_middlewares`).

    FastStream's two lines per message handled ("Received", "Processed") are DEBUG: at 400
    orders/s they were most of the logs and about 8 % of a consumer's CPU. Failures are
    logged by :class:`~relay_shared.bus.consuming.EventConsumer`; counts and durations are
    on ``/metrics``; ``APP_LOG_LEVEL=DEBUG`` shows every message again.

    Without FastDepends (``apply_types=False``): no handler has anything injected, and a
    consumer's handler gets the message itself
    (:func:`relay_shared.bus.registration.register_consumer`); solving a dependency model,
    decoding the body as JSON and finding the message in FastStream's context cost a consumer
    about 50 µs of its 350-370 µs per event (``tests/bench/bench_consumer.py``: 308-316 µs
    without them)."""
    return NatsBroker(
        settings.nats_url,
        name=f"relay-{settings.service_name}",
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        middlewares=tuple(middlewares),
        logger=library_logger(),
        log_level=logging.DEBUG,
        apply_types=False,
    )


def broker_middlewares(settings: CommonSettings) -> list[Any]:
    """FastStream's NATS tracing middleware when tracing is on (``OTEL_EXPORTER_OTLP_ENDPOINT``).
    Messages and publishes are counted by the consumers and the bus themselves
    (:mod:`relay_shared.metrics`), not by FastStream's Prometheus middleware."""
    middlewares: list[Any] = []
    if settings.otel_exporter_otlp_endpoint:
        from faststream.nats.opentelemetry import NatsTelemetryMiddleware

        middlewares.append(NatsTelemetryMiddleware())
    return middlewares


async def connect_broker(broker: NatsBroker, settings: CommonSettings) -> Client:
    """The broker's first connection, bounded by ``settings.nats_start_timeout_s`` (a service
    that cannot reach NATS at start says so and exits)."""
    async with reaching("NATS", settings.nats_url):
        try:
            return await asyncio.wait_for(broker.connect(), settings.nats_start_timeout_s)
        except TimeoutError as exc:
            raise TimeoutError(f"no answer within {settings.nats_start_timeout_s:g} s") from exc


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
    """Open the service's pool (migrated) and object store; close them on exit. A server
    that cannot be reached raises :class:`~relay_shared.dependencies.DependencyUnreachableError`;
    what was opened becomes a readiness check of the running worker (if any)."""
    readiness = CURRENT_READINESS.get()
    pool: asyncpg.Pool | None = None
    if schema is not None:
        async with reaching("Postgres", settings.database_url):
            pool = await create_pool(settings.database_url, schema)
        if migrations is not None:
            await apply_migrations(pool, schema, migrations)
    try:
        if pool is not None and readiness is not None:
            readiness.add("postgres", _pinger(pool))
        if s3:
            async with open_object_store(s3_settings(settings)) as store:
                async with reaching("S3", settings.s3_endpoint_url or "the AWS endpoint"):
                    await store.ensure_bucket()
                if readiness is not None:
                    readiness.add("s3", store.ping)
                yield Resources(pool_or_none=pool, store_or_none=store)
        else:
            yield Resources(pool_or_none=pool, store_or_none=None)
    finally:
        if readiness is not None:
            readiness.remove("postgres")
            readiness.remove("s3")
        if pool is not None:
            await pool.close()


def _pinger(pool: asyncpg.Pool) -> Check:
    async def ping() -> None:
        await pool.fetchval("SELECT 1")

    return ping


@dataclass
class Operations:
    """A worker's metrics and readiness, served on ``APP_METRICS_PORT`` (see
    :mod:`relay_shared.health`) with the durable consumers it watches."""

    metrics: ServiceMetrics
    durables: list[str] = field(default_factory=list)
    readiness: ReadinessChecks = field(default_factory=ReadinessChecks)


async def stop_consuming(broker: NatsBroker, in_flight: InFlight | None) -> None:
    """Stop pulling messages, cancel those still being handled in tasks of their own
    (``in_flight``: they are delivered again), then close the connection (drained: the acks
    and naks already sent reach the server)."""
    for subscriber in broker.subscribers:
        await subscriber.stop()
    if in_flight is not None:
        await in_flight.stop()
    await broker.stop()


async def run_worker(
    broker: NatsBroker,
    settings: CommonSettings,
    wiring: AbstractAsyncContextManager[object],
    operations: Operations | None = None,
    in_flight: InFlight | None = None,
) -> None:
    """Serve the operations port (when ``operations`` are given and ``APP_METRICS_PORT`` is
    set), open resources (``wiring``), declare the streams, start consuming; run until
    cancelled, then stop consuming (:func:`stop_consuming`) before closing resources."""
    async with AsyncExitStack() as stack:
        if operations is not None:
            CURRENT_READINESS.set(operations.readiness)
            await stack.enter_async_context(
                serving_operations(
                    operations.metrics,
                    operations.readiness,
                    settings.metrics_host,
                    settings.metrics_port,
                )
            )
        await stack.enter_async_context(wiring)
        connection = await connect_broker(broker, settings)
        await ensure_streams(connection.jetstream(), stream_settings(settings))
        await broker.start()
        if operations is not None:
            _watch_consumers(operations, connection, settings.nats_stream)
        log.info("service.started", nats=settings.nats_url)
        try:
            await asyncio.Event().wait()
        finally:
            await stop_consuming(broker, in_flight)
            log.info("service.stopped")


def _watch_consumers(operations: Operations, connection: Client, stream: str) -> None:
    """Consumer lag on ``/metrics``, and ready while every durable consumer can be read."""
    operations.metrics.watch_consumers(connection.jetstream, stream, operations.durables)

    async def consumers_exist() -> None:
        js = connection.jetstream()
        for durable in operations.durables:
            await js.consumer_info(stream, durable)

    operations.readiness.add("nats", consumers_exist)
    operations.readiness.started = True
