"""Publishing after a state change: the transactional outbox, one mechanism for every service.

Each service schema holds one ``outbox`` table, defined once here (:data:`TABLE_SQL`); a
service's migration creates it with the line ``\\include relay_shared.outbox``, which the
migration runner (:mod:`relay_shared.database`) replaces with that definition. A handler
writes the events its change causes with :meth:`Outbox.add` on the connection, and in the
transaction, of the change itself, so the state and its events commit or vanish together;
after the commit it calls :meth:`Outbox.drain`. What a crash left pending between commit and
drain is published by the periodic drain (:meth:`Outbox.draining`, started where the service
starts, every ``outbox_interval_s`` of :class:`~relay_shared.settings.CommonSettings`), or by
the next handler's drain.

Draining publishes the pending rows of each tenant in ``id`` order (the order they were
written; different tenants' side by side, see :func:`_publish_each_tenant_in_order`), marking
a batch published in its transaction right after the bus stored all of it. Drainers of one
schema (replicas, the periodic drain, handlers) take turns under a transaction-scoped advisory
lock, so each row is published by one of them, in order. Inside one process the calls share
passes (:class:`~relay_shared.group_commit.GroupCommit`): a call made while a pass runs waits
for the next pass, which starts when the running one ends and so publishes everything
committed before the call. Concurrent handlers then cost one drain between them, not one each
queued on the lock holding a pool connection (insights at 400 orders/s had four or five
connections waiting on it at any moment). When a publish or the commit fails, the
batch's rows stay pending and are published again later with the same ``Nats-Msg-Id`` (the
event id, deterministic): the server drops the repeats inside its duplicate window, and the
consumers are idempotent beyond it. The rows stay after publishing, so an event written again
(``ON CONFLICT (event_id) DO NOTHING``) is not published twice, until the periodic drain purges
them ``outbox_retention_days`` after they were published (far beyond any redelivery; an event
written again after that is published again, and its consumers are idempotent).

Traces: a row keeps the W3C ``traceparent`` of the span that wrote it (column ``traceparent``,
NULL when tracing is off), and the drain publishes it inside that context, so the event's
NATS headers continue the trace of the request or message that caused it, whichever task or
replica drains it. The column is added to an existing table by :func:`upgrade_table` (run by
the migration runner after a schema's own migrations; :data:`TABLE_SQL` stays unchanged so
applied migrations keep their checksums).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Protocol

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from relay_shared.background import running
from relay_shared.bus.failures import is_transient
from relay_shared.events import EVENT_TYPES, Event
from relay_shared.group_commit import GroupCommit
from relay_shared.tracing import annotate_span, continued_from, current_traceparent

PublishFn = Callable[[Event], Awaitable[bool]]


class Publisher(Protocol):
    """What handlers publish through (the service's :class:`~relay_shared.bus.EventBus`):
    True when the bus stored the event, False when it dropped it as a repeat."""

    async def publish(self, event: Event) -> bool: ...


BATCH_SIZE = 100
#: How long published rows are kept (the default of ``outbox_retention_days``).
RETENTION_DAYS = 7.0
#: How often the periodic drain purges published rows past their retention.
PURGE_EVERY = timedelta(hours=1)
#: The ``outbox`` table of every service schema (the same shape everywhere).
TABLE_SQL = """\
CREATE TABLE outbox (
    id            bigserial   PRIMARY KEY,
    event_id      text        NOT NULL UNIQUE,
    subject       text        NOT NULL,
    payload       text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
"""
#: What :func:`upgrade_table` adds to a schema's ``outbox`` table (idempotent, forward-only).
UPGRADE_COLUMNS = {"traceparent": "text"}
#: The advisory lock drainers of one schema take turns under (keyed by the schema's name).
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('relay.outbox:' || current_schema(), 0))"

log = structlog.get_logger(__name__)


async def upgrade_table(
    conn: asyncpg.Connection | PoolConnectionProxy[asyncpg.Record], schema: str
) -> None:
    """Add the columns of :data:`UPGRADE_COLUMNS` that ``schema``'s ``outbox`` table lacks
    (nothing when the schema has no outbox)."""
    present = {
        row["column_name"]
        for row in await conn.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = $1 AND table_name = 'outbox'",
            schema,
        )
    }
    if not present:
        return
    for column, sql_type in UPGRADE_COLUMNS.items():
        if column not in present:
            await conn.execute(f'ALTER TABLE "{schema}".outbox ADD COLUMN {column} {sql_type}')


@dataclass(frozen=True)
class _Pending:
    """A pending row's event, and the trace it continues."""

    event: Event
    traceparent: str | None


async def _publish_each_tenant_in_order(publish: PublishFn, pending: list[_Pending]) -> None:
    """Each tenant's events one after another in the order written (the next is sent once
    the bus stored the previous; after a failure the tenant's later ones are not sent), and
    the tenants side by side: a batch costs about one round trip per event of its busiest
    tenant, not one per event. A failure cancels the other tenants' publishing and is raised
    (the whole batch stays pending; what was stored is dropped as a repeat next time)."""
    by_tenant: dict[str, list[_Pending]] = {}
    for item in pending:
        by_tenant.setdefault(item.event.tenant_id, []).append(item)
    if len(by_tenant) <= 1:
        for items in by_tenant.values():
            await _publish_in_order(publish, items)
        return
    tasks = [asyncio.create_task(_publish_in_order(publish, items)) for items in by_tenant.values()]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for failure in [task.exception() for task in tasks if not task.cancelled()]:
        if failure is not None:
            raise failure


async def _publish_in_order(publish: PublishFn, items: list[_Pending]) -> None:
    for item in items:
        with continued_from(item.traceparent):
            await publish(item.event)


class Outbox:
    """The ``outbox`` table of the schema ``pool`` is bound to."""

    def __init__(self, pool: asyncpg.Pool, *, batch_size: int = BATCH_SIZE) -> None:
        self._pool = pool
        self._batch_size = batch_size
        # The passes of each publish function (a service has one: its bus's publish).
        self._passes: dict[PublishFn, GroupCommit[None, int]] = {}

    @staticmethod
    async def add(
        conn: asyncpg.Connection | PoolConnectionProxy[asyncpg.Record], *events: Event
    ) -> None:
        """Write ``events`` on ``conn``, inside the caller's transaction, with the current
        span's ``traceparent`` (the span is tagged with the first event's tenant, run and
        correlation ids); an event already written (same event id) is left as it is."""
        if not events:
            return  # not even a round trip
        traceparent = current_traceparent()
        if traceparent is not None:
            first = events[0]
            annotate_span(
                {
                    "tenant_id": first.tenant_id,
                    "run_id": getattr(first, "run_id", None),
                    "correlation_id": first.correlation_id,
                }
            )
        await conn.executemany(
            "INSERT INTO outbox (event_id, subject, payload, traceparent)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
            [(e.event_id, e.subject, e.model_dump_json(), traceparent) for e in events],
        )

    async def drain(self, publish: PublishFn) -> int:
        """Publish every pending event in the order written; how many the pass published.
        A call made while another call's pass runs joins the next pass (one for all who
        joined), which publishes what was committed before the call; a pass that fails raises
        in every call that joined it."""
        passes = self._passes.get(publish)
        if passes is None:
            passes = GroupCommit(partial(self._drain_pass, publish), max_batch=sys.maxsize)
            self._passes[publish] = passes
        return await passes.submit(None)

    async def _drain_pass(self, publish: PublishFn, calls: list[None]) -> list[int]:
        total = await self._drain_all(publish)
        return [total] * len(calls)

    async def _drain_all(self, publish: PublishFn) -> int:
        total = 0
        while True:
            published = await self._drain_batch(publish)
            total += published
            if published < self._batch_size:
                return total

    async def _drain_batch(self, publish: PublishFn) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_LOCK)
            rows = await conn.fetch(
                "SELECT id, subject, payload, traceparent FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE",
                self._batch_size,
            )
            pending = [
                _Pending(
                    EVENT_TYPES[row["subject"]].model_validate_json(row["payload"]),
                    row["traceparent"],
                )
                for row in rows
            ]
            await _publish_each_tenant_in_order(publish, pending)
            # One statement for the batch: a failed publish rolls all of it back anyway (the
            # rows published before it are published again, and dropped as repeats).
            if rows:
                await conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                    [row["id"] for row in rows],
                )
        return len(rows)

    async def pending(self) -> int:
        """How many events wait to be published."""
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
        return count

    async def purge(self, retention: timedelta) -> int:
        """Delete the rows published more than ``retention`` ago; how many were deleted."""
        status: str = await self._pool.execute(
            "DELETE FROM outbox WHERE published_at < now() - $1::interval", retention
        )
        return int(status.rsplit(" ", 1)[-1])

    async def drain_forever(
        self, publish: PublishFn, interval_s: float, retention_days: float = RETENTION_DAYS
    ) -> None:
        """Drain every ``interval_s`` until cancelled (the first round after one interval, when
        the service's broker is connected), and in the first round and then every
        :data:`PURGE_EVERY` purge the rows published more than ``retention_days`` ago; a failed
        round is logged, the next one retries."""
        retention = timedelta(days=retention_days)
        purge_due = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval_s)
            try:
                published = await self.drain(publish)
                if loop.time() >= purge_due:
                    purged = await self.purge(retention)
                    purge_due = loop.time() + PURGE_EVERY.total_seconds()
                    if purged:
                        log.info("outbox.purged", purged=purged)
            except Exception as exc:
                # Last resort: the drain must outlive a bad round (a dependency down, or
                # something unexpected, logged with its trace); the next round retries.
                if is_transient(exc):
                    log.warning("outbox.drain_failed", error=repr(exc))
                else:
                    log.exception("outbox.drain_failed_unexpectedly")
            else:
                if published:
                    log.info("outbox.drained", published=published)

    @asynccontextmanager
    async def draining(
        self, publish: PublishFn, interval_s: float, retention_days: float = RETENTION_DAYS
    ) -> AsyncIterator[None]:
        """:meth:`drain_forever` in the background while the block runs."""
        async with running(self.drain_forever(publish, interval_s, retention_days)):
            yield
