"""Running services in-process against the real stack (the same code ``relay serve`` runs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.settings import IngestSettings
from relay_normalize.app import NormalizeApp
from relay_normalize.settings import NormalizeSettings
from relay_pricing.app import PricingApp
from relay_pricing.settings import PricingSettings
from relay_shared.background import stop
from relay_shared.runtime import run_worker
from tests.support.jetstream import nats_client, wait_for_stream
from tests.support.pipeline_runs import wait_for_consumers


class WorkerApp(Protocol):
    settings: Any
    broker: Any

    def wired(self) -> Any: ...


@asynccontextmanager
async def running(apps: Sequence[WorkerApp]) -> AsyncIterator[None]:
    """Run each app's worker loop in a task; cancel them (clean stop) on exit, again until
    each has ended (:func:`relay_shared.background.stop`)."""
    tasks = [
        asyncio.create_task(
            run_worker(app.broker, app.settings, app.wired(), in_flight=app.in_flight)
        )
        for app in apps
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            await stop(task)


@asynccontextmanager
async def running_pipeline(
    endpoints: StackEndpoints,
    stream: str,
    *,
    ingest_s3_endpoint_url: str | None = None,
    **overrides: Any,
) -> AsyncIterator[None]:
    """Ingest, normalize and pricing on ``stream`` (``overrides`` apply to all three's
    settings; ingest may reach S3 at another address, e.g. a fault proxy), entered once
    the stream and every pipeline consumer are declared."""
    env = endpoints.as_env()
    common: dict[str, Any] = {"nats_stream": stream, **overrides}
    ingest = dict(common)
    if ingest_s3_endpoint_url is not None:
        ingest["s3_endpoint_url"] = ingest_s3_endpoint_url
    apps: list[WorkerApp] = [
        IngestApp(IngestSettings.from_env(env, **ingest)),
        NormalizeApp(NormalizeSettings.from_env(env, **common)),
        PricingApp(PricingSettings.from_env(env, **common)),
    ]
    async with running(apps), nats_client(endpoints.nats_url) as client:
        await wait_for_stream(client, stream)
        await wait_for_consumers(client, stream)
        yield
