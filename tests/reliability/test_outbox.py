"""The shared transactional outbox (:mod:`relay_shared.outbox`) on a real Postgres and a real
NATS: every pending event is published exactly once, in the order written, by two drainers
side by side; a crash between commit and publish leaves the event pending until the periodic
drain publishes it; a crash between publish and marking re-publishes it with the same
``Nats-Msg-Id``, which the server drops, so a consumer sees it once; published rows past their
retention are purged (by the periodic drain), pending ones never. Every service schema holds
the same ``outbox`` table."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.bus import EventBus, StreamSettings, ensure_streams
from relay_shared.database import apply_migrations, create_pool
from relay_shared.events import Event, RunRequested
from relay_shared.outbox import Outbox
from tests.support.jetstream import delete_streams, nats_client
from tests.support.polling import wait_until

pytestmark = pytest.mark.stack

STREAM = f"OUTBOX_{uuid.uuid4().hex[:8].upper()}"
MIGRATIONS = {
    "gateway": "relay_gateway.migrations",
    "ingest": "relay_ingest.migrations",
    "pricing": "relay_pricing.migrations",
    "insights": "relay_insights.migrations",
}


@dataclass
class Rig:
    client: Client
    bus: EventBus
    database_url: str


@pytest.fixture(scope="module")
async def rig(isolated_bus: StackEndpoints) -> AsyncIterator[Rig]:
    """The module's stream, and a service's event bus publishing to it."""
    broker = NatsBroker(isolated_bus.nats_url)
    bus = EventBus(broker, STREAM, [RunRequested], service="outbox-test")
    async with nats_client(isolated_bus.nats_url) as client:
        await ensure_streams(client.jetstream(), StreamSettings(name=STREAM))
        await broker.start()
        try:
            yield Rig(client, bus, isolated_bus.database_url)
        finally:
            await broker.stop()
            await delete_streams(client, STREAM)


async def _schema(database_url: str, schema: str, package: str) -> asyncpg.Pool:
    pool = await create_pool(database_url, schema)
    await apply_migrations(pool, schema, package)
    return pool


@pytest.fixture
async def pool(rig: Rig, unique_id: str) -> AsyncIterator[asyncpg.Pool]:
    """A fresh service schema (pricing's migrations), its outbox empty."""
    pool = await _schema(rig.database_url, f"outbox_{unique_id}", MIGRATIONS["pricing"])
    try:
        yield pool
    finally:
        await pool.close()


def _requested(tenant_id: str, n: int) -> RunRequested:
    run_id = f"run-{tenant_id}-{n:03d}"
    return RunRequested(
        event_id=f"{subjects.RUN_REQUESTED}:{run_id}",
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        tenant_id=tenant_id,
        correlation_id=f"c-{tenant_id}",
        run_id=run_id,
        config_version=1,
        vendors=None,
        force=False,
    )


async def _commit(pool: asyncpg.Pool, events: list[RunRequested]) -> None:
    """The state change's transaction: here only its events."""
    async with pool.acquire() as conn, conn.transaction():
        await Outbox.add(conn, *events)


async def _consumer(rig: Rig, name: str) -> str:
    """A durable consumer that sees what is published from now on."""
    await rig.client.jetstream().add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=name,
            deliver_policy=DeliverPolicy.NEW,
            ack_policy=AckPolicy.EXPLICIT,
            filter_subject=subjects.RUN_REQUESTED,
        ),
    )
    return name


async def _seen(rig: Rig, durable: str) -> list[tuple[str, dict[str, Any]]]:
    """Everything the consumer has been given, acked: (Nats-Msg-Id, body) in stream order;
    nothing is left for it afterwards."""
    js = rig.client.jetstream()
    pending = (await js.consumer_info(STREAM, durable)).num_pending
    seen: list[tuple[str, dict[str, Any]]] = []
    if pending:
        sub = await js.pull_subscribe_bind(durable=durable, stream=STREAM)
        for message in await sub.fetch(pending, timeout=10):
            await message.ack()
            seen.append(((message.headers or {})["Nats-Msg-Id"], json.loads(message.data)))
        await sub.unsubscribe()
    info = await js.consumer_info(STREAM, durable)
    assert (info.num_pending, len(seen)) == (0, pending)
    return seen


async def test_two_drainers_publish_every_event_once_in_order(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    events = [_requested(f"t-{unique_id}", n) for n in range(250)]  # more than two batches
    durable = await _consumer(rig, f"two-{unique_id}")
    await _commit(pool, events)
    calls: list[str] = []

    async def publish(event: Event) -> bool:
        calls.append(event.event_id)
        return await rig.bus.publish(event)

    replica = await create_pool(rig.database_url, f"outbox_{unique_id}")
    try:
        first, second = Outbox(pool), Outbox(replica)
        counts = await asyncio.gather(first.drain(publish), second.drain(publish))
        pending = await first.pending()
    finally:
        await replica.close()

    ids = [e.event_id for e in events]
    assert sum(counts) == 250
    assert pending == 0
    assert calls == ids
    seen = await _seen(rig, durable)
    assert [msg_id for msg_id, _ in seen] == ids
    assert [body["event_id"] for _, body in seen] == ids


async def test_drains_called_during_a_pass_share_the_next_pass(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    """Nineteen handlers drain while a pass is publishing: they wait for one more pass, which
    publishes what they committed, and each is answered that pass's count (queued one by one
    on the lock, the first would publish the 5 and the other 18 would publish nothing)."""
    first_batch = [_requested(f"t-{unique_id}", n) for n in range(3)]
    second_batch = [_requested(f"t-{unique_id}", n) for n in range(3, 8)]
    durable = await _consumer(rig, f"share-{unique_id}")
    outbox = Outbox(pool)
    publishing, release = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def publish(event: Event) -> bool:
        calls.append(event.event_id)
        if len(calls) == 1:
            publishing.set()
            await release.wait()
        return await rig.bus.publish(event)

    await _commit(pool, first_batch)
    running = asyncio.create_task(outbox.drain(publish))
    await publishing.wait()  # the first pass holds its batch and the lock
    await _commit(pool, second_batch)
    joined = [asyncio.create_task(outbox.drain(publish)) for _ in range(19)]
    await asyncio.sleep(0)  # one loop step: each joining call has run up to its wait
    release.set()
    counts = [await running, *await asyncio.gather(*joined)]

    ids = [e.event_id for e in first_batch + second_batch]
    assert counts == [3] + [5] * 19
    assert calls == ids
    assert await outbox.pending() == 0
    assert [msg_id for msg_id, _ in await _seen(rig, durable)] == ids


async def test_tenants_are_published_side_by_side_each_in_the_order_written(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    """Three tenants' events, written interleaved: each tenant's first publish waits until
    all three tenants have one in flight (one after another, the first would wait alone for
    10 s and fail), and each tenant's events reach the stream in the order written."""
    tenants = [f"t{n}-{unique_id}" for n in range(3)]
    events = [_requested(tenants[n % 3], n) for n in range(12)]
    durable = await _consumer(rig, f"side-{unique_id}")
    await _commit(pool, events)
    in_flight: set[str] = set()
    all_in_flight = asyncio.Event()

    async def publish(event: Event) -> bool:
        in_flight.add(event.tenant_id)
        if len(in_flight) == len(tenants):
            all_in_flight.set()
        await asyncio.wait_for(all_in_flight.wait(), 10)
        return await rig.bus.publish(event)

    assert await Outbox(pool).drain(publish) == 12

    seen = [msg_id for msg_id, _ in await _seen(rig, durable)]
    assert sorted(seen) == sorted(e.event_id for e in events)
    for tenant in tenants:
        written = [e.event_id for e in events if e.tenant_id == tenant]
        assert [msg_id for msg_id in seen if msg_id in written] == written


async def test_a_tenant_whose_publish_fails_sends_nothing_after_it(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    """Tenant a's second event fails: a's third is never sent, the batch stays pending, and
    the next drain publishes it whole (b's stored events dropped as repeats), a's in order."""
    a, b = f"a-{unique_id}", f"b-{unique_id}"
    events = [_requested(a, 0), _requested(b, 1), _requested(a, 2), _requested(a, 3)]
    durable = await _consumer(rig, f"fail-{unique_id}")
    await _commit(pool, events)
    outbox = Outbox(pool)
    sent: list[str] = []

    async def fail_on_a_second(event: Event) -> bool:
        if event.event_id == events[2].event_id:
            raise ConnectionResetError("the bus refused a's second event")
        sent.append(event.event_id)
        return await rig.bus.publish(event)

    with pytest.raises(ConnectionResetError):
        await outbox.drain(fail_on_a_second)
    assert events[3].event_id not in sent
    assert await outbox.pending() == 4

    assert await outbox.drain(rig.bus.publish) == 4
    seen = [msg_id for msg_id, _ in await _seen(rig, durable)]
    assert sorted(seen) == sorted(e.event_id for e in events)
    assert [m for m in seen if m.startswith(f"{subjects.RUN_REQUESTED}:run-{a}")] == [
        events[0].event_id,
        events[2].event_id,
        events[3].event_id,
    ]


async def test_a_crash_between_commit_and_publish_is_published_by_the_periodic_drain(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    event = _requested(f"t-{unique_id}", 1)
    durable = await _consumer(rig, f"crash-{unique_id}")
    await _commit(pool, [event])  # ... and the process dies before it drains
    outbox = Outbox(pool)
    assert await outbox.pending() == 1

    async with outbox.draining(rig.bus.publish, interval_s=0.05):
        await wait_until(_nothing_pending(outbox), 10.0, "the periodic drain")

    assert await _seen(rig, durable) == [(event.event_id, json.loads(event.model_dump_json()))]


async def test_a_crash_between_publish_and_mark_is_published_again_and_seen_once(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    event = _requested(f"t-{unique_id}", 1)
    durable = await _consumer(rig, f"mark-{unique_id}")
    await _commit(pool, [event])
    outbox = Outbox(pool)
    stored: list[bool] = []

    async def publish_then_die(published: Event) -> bool:
        stored.append(await rig.bus.publish(published))
        raise ConnectionResetError("the process died before the row was marked")

    with pytest.raises(ConnectionResetError):
        await outbox.drain(publish_then_die)
    assert await outbox.pending() == 1

    async def publish(published: Event) -> bool:
        stored.append(await rig.bus.publish(published))
        return stored[-1]

    async with outbox.draining(publish, interval_s=0.05):
        await wait_until(_nothing_pending(outbox), 10.0, "the periodic drain")

    assert stored == [True, False]  # the server dropped the repeat by its Nats-Msg-Id
    assert await _seen(rig, durable) == [(event.event_id, json.loads(event.model_dump_json()))]
    assert await outbox.drain(publish) == 0


async def test_a_publish_failing_mid_batch_leaves_the_whole_batch_pending(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    """The batch is marked by one statement after its publishes: the events published before
    the failure are published again, and the server drops those repeats."""
    events = [_requested(f"t-{unique_id}", n) for n in range(1, 4)]
    durable = await _consumer(rig, f"batch-{unique_id}")
    await _commit(pool, events)
    outbox = Outbox(pool)
    stored: list[bool] = []

    async def fail_on_third(published: Event) -> bool:
        if published.event_id == events[2].event_id:
            raise ConnectionResetError("the bus went away mid-batch")
        stored.append(await rig.bus.publish(published))
        return stored[-1]

    with pytest.raises(ConnectionResetError):
        await outbox.drain(fail_on_third)
    assert await outbox.pending() == 3

    async def publish(published: Event) -> bool:
        stored.append(await rig.bus.publish(published))
        return stored[-1]

    assert await outbox.drain(publish) == 3
    assert stored == [True, True, False, False, True]
    assert await outbox.pending() == 0
    assert [event_id for event_id, _ in await _seen(rig, durable)] == [e.event_id for e in events]


async def test_an_event_written_again_is_not_published_again(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    event = _requested(f"t-{unique_id}", 1)
    durable = await _consumer(rig, f"again-{unique_id}")
    outbox = Outbox(pool)
    await _commit(pool, [event])
    assert await outbox.drain(rig.bus.publish) == 1
    await _commit(pool, [event])  # a redelivered message's handler writes it again

    assert await outbox.drain(rig.bus.publish) == 0
    assert [msg_id for msg_id, _ in await _seen(rig, durable)] == [event.event_id]


async def test_every_service_schema_has_the_same_outbox(rig: Rig, unique_id: str) -> None:
    shapes = {}
    for service, package in MIGRATIONS.items():
        schema = f"shape_{service}_{unique_id}"
        pool = await _schema(rig.database_url, schema, package)
        try:
            columns = await pool.fetch(
                "SELECT column_name, data_type, is_nullable, column_default IS NOT NULL AS d"
                " FROM information_schema.columns WHERE table_schema = $1"
                " AND table_name = 'outbox' ORDER BY ordinal_position",
                schema,
            )
            indexes = await pool.fetch(
                "SELECT indexname, replace(indexdef, $1, '') AS def FROM pg_indexes"
                " WHERE schemaname = $2 AND tablename = 'outbox' ORDER BY indexname",
                f"{schema}.",
                schema,
            )
        finally:
            await pool.close()
        shapes[service] = ([tuple(c) for c in columns], [tuple(i) for i in indexes])

    assert shapes["insights"][0] == [
        ("id", "bigint", "NO", True),
        ("event_id", "text", "NO", False),
        ("subject", "text", "NO", False),
        ("payload", "text", "NO", False),
        ("created_at", "timestamp with time zone", "NO", True),
        ("published_at", "timestamp with time zone", "YES", False),
        ("traceparent", "text", "YES", False),
    ]
    assert {service: shape == shapes["insights"] for service, shape in shapes.items()} == {
        service: True for service in MIGRATIONS
    }


async def _age(pool: asyncpg.Pool, event: Event, *, published_days_ago: float | None) -> None:
    """Make ``event``'s row look published that long ago (None: still pending, written a month
    ago)."""
    await pool.execute(
        "UPDATE outbox SET created_at = now() - interval '30 days',"
        " published_at = now() - make_interval(secs => $2::float8 * 86400) WHERE event_id = $1",
        event.event_id,
        published_days_ago,
    )


async def _kept(pool: asyncpg.Pool) -> list[str]:
    return [r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox ORDER BY id")]


async def test_purge_deletes_only_the_rows_published_past_the_retention(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    old, just_old, young, pending = (_requested(f"t-{unique_id}", n) for n in range(4))
    outbox = Outbox(pool)
    await _commit(pool, [old, just_old, young, pending])
    assert await outbox.drain(rig.bus.publish) == 4
    await _age(pool, old, published_days_ago=8.0)
    await _age(pool, just_old, published_days_ago=7.001)
    await _age(pool, young, published_days_ago=6.999)
    await _age(pool, pending, published_days_ago=None)

    assert await outbox.purge(timedelta(days=7)) == 2
    assert await _kept(pool) == [young.event_id, pending.event_id]
    assert await outbox.pending() == 1
    assert await outbox.purge(timedelta(days=7)) == 0


async def test_the_periodic_drain_publishes_and_purges_past_the_retention(
    rig: Rig, pool: asyncpg.Pool, unique_id: str
) -> None:
    old, young, late = (_requested(f"t-{unique_id}", n) for n in range(3))
    durable = await _consumer(rig, f"purge-{unique_id}")
    outbox = Outbox(pool)
    await _commit(pool, [old, young])
    assert await outbox.drain(rig.bus.publish) == 2
    await _age(pool, old, published_days_ago=3.0)
    await _age(pool, young, published_days_ago=1.0)
    await _commit(pool, [late])

    async def only_late_is_kept() -> bool:
        return await _kept(pool) == [young.event_id, late.event_id]

    async with outbox.draining(rig.bus.publish, interval_s=0.05, retention_days=2.0):
        await wait_until(only_late_is_kept, 10.0, "the periodic drain's purge")
        await wait_until(_nothing_pending(outbox), 10.0, "the periodic drain")

    assert [msg_id for msg_id, _ in await _seen(rig, durable)] == [
        old.event_id,
        young.event_id,
        late.event_id,
    ]


def _nothing_pending(outbox: Outbox) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await outbox.pending() == 0

    return check
