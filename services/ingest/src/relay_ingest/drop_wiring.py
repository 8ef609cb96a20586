"""Opening ingest's intake: the S3 listing, the poll loop, (when ``APP_BUCKET_EVENTS_SUBJECT``
is set) the subscription to MinIO's bucket notifications, and the scheduled runs' tick (every
``APP_SCHEDULE_TICK_S``, 0: off).

The poll runs every ``APP_INBOUND_POLL_S`` seconds (0: off) in every replica; replicas poll
the same tenants but record each object once (the table's primary key). Notifications arrive
on a core NATS subject in the queue group ``ingest`` (one replica gets each); one missed while
no replica listened is found by the next poll, so nothing depends on them being delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import nats
import structlog
from nats.aio.msg import Msg

from relay_ingest.adapters.drops_repository import DropsRepository
from relay_ingest.adapters.feed_freshness import FeedFreshness
from relay_ingest.adapters.inbound_listing import open_inbound_listing
from relay_ingest.adapters.schedules_repository import SchedulesRepository
from relay_ingest.drop_handlers import DropHandlers
from relay_ingest.pull_handlers import PullHandlers
from relay_ingest.schedule_handlers import ScheduleHandlers
from relay_ingest.settings import IngestSettings
from relay_shared.background import running
from relay_shared.bus.failures import is_transient
from relay_shared.clock import clock_from_setting
from relay_shared.config_store import TenantConfigStore
from relay_shared.outbox import Publisher
from relay_shared.runtime import Resources, s3_settings

log = structlog.get_logger(__name__)
QUEUE_GROUP = "ingest"


async def every(interval_s: float, work: Callable[[], Awaitable[object]], name: str) -> None:
    """``work()`` every ``interval_s`` (from the start of one round to the next; a round
    that takes longer is followed at once) until cancelled; a failed round is logged and the
    next one retries (the loop must outlive a dependency that is down)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            await work()
        except Exception as exc:
            if is_transient(exc):
                log.warning("ingest.round_failed", loop=name, error=repr(exc))
            else:
                log.exception("ingest.round_failed_unexpectedly", loop=name)
        await asyncio.sleep(max(0.0, started + interval_s - loop.time()))


@asynccontextmanager
async def _notifications(
    handlers: DropHandlers, nats_url: str, subject: str
) -> AsyncIterator[None]:
    client = await nats.connect(nats_url, name="relay-ingest-bucket-events")

    async def on_message(message: Msg) -> None:
        try:
            await handlers.on_notification(message.data)
        except Exception as exc:  # the poll finds what a failed notification missed
            if is_transient(exc):
                log.warning("ingest.bucket_notification_failed", error=repr(exc))
            else:
                log.exception("ingest.bucket_notification_failed_unexpectedly")

    try:
        await client.subscribe(subject, queue=QUEUE_GROUP, cb=on_message)
        yield
    finally:
        await client.drain()


@asynccontextmanager
async def open_drop_handlers(
    settings: IngestSettings,
    resources: Resources,
    bus: Publisher,
    pulling: PullHandlers | None = None,
) -> AsyncIterator[DropHandlers]:
    async with AsyncExitStack() as stack:
        listing = await stack.enter_async_context(open_inbound_listing(s3_settings(settings)))
        scheduling = ScheduleHandlers(
            SchedulesRepository(resources.pool),
            bus,
            FeedFreshness(resources.store, resources.pool),
            clock_from_setting(settings.clock_offset_file),
        )
        handlers = DropHandlers(
            configs=TenantConfigStore(resources.store),
            drops=DropsRepository(resources.pool),
            listing=listing,
            bus=bus,
            concurrency=settings.inbound_poll_concurrency,
            scheduling=scheduling,
            pulling=pulling,
        )
        if settings.inbound_poll_s > 0:
            await stack.enter_async_context(
                running(every(settings.inbound_poll_s, handlers.poll_once, "inbound_poll"))
            )
        if settings.schedule_tick_s > 0:
            await stack.enter_async_context(
                running(every(settings.schedule_tick_s, scheduling.tick, "schedule"))
            )
        if settings.bucket_events_subject:
            await stack.enter_async_context(
                _notifications(handlers, settings.nats_url, settings.bucket_events_subject)
            )
        yield handlers
