"""Bucket drops on a real Postgres (ingest's migrations, a schema of the test's own), a real S3
and a real NATS: a file put under a watched vendor's inbound prefix becomes exactly one
``feed.received`` however it is seen (the poll, MinIO's notification, both, two replicas at
once); a rewrite with other bytes is a new drop, the same bytes again are not; what lies outside
the watched vendors, or predates the watch, is no drop; the poll costs one ListObjectsV2 page
per watched tenant and resumes after a cut page."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import asyncpg
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_ingest.adapters.drops_repository import DropsRepository
from relay_ingest.adapters.inbound_listing import InboundListing, open_inbound_listing
from relay_ingest.domain.drops import (
    BucketObject,
    Drop,
    Watch,
    drop_event_id,
    drop_feed_received,
    drops,
)
from relay_ingest.drop_handlers import DropHandlers
from relay_shared import subjects
from relay_shared.bus import EventBus, StreamSettings, ensure_streams
from relay_shared.config_store import TenantConfigStore
from relay_shared.database import apply_migrations, create_pool
from relay_shared.events import FeedReceived, TenantConfigured
from relay_shared.storage import ObjectStore, S3Settings
from tests.support.jetstream import delete_streams, nats_client, stream_events
from tests.support.pipeline_runs import tenant_config

pytestmark = pytest.mark.stack

STREAM = f"DROPS_{uuid.uuid4().hex[:8].upper()}"
FEED = b"SKU,QTY,COST\nSKU-1,3,4.00\n"


@dataclass
class Rig:
    client: Client
    bus: EventBus
    pool: asyncpg.Pool
    listing: InboundListing
    store: ObjectStore

    def handlers(self, listing: InboundListing | None = None) -> DropHandlers:
        return DropHandlers(
            configs=TenantConfigStore(self.store),
            drops=DropsRepository(self.pool),
            listing=listing or self.listing,
            bus=self.bus,
        )


def _s3(stack: StackEndpoints) -> S3Settings:
    return S3Settings(
        bucket=stack.s3_bucket,
        region=stack.s3_region,
        endpoint_url=stack.s3_endpoint_url,
        access_key_id=stack.s3_access_key_id or None,
        secret_access_key=stack.s3_secret_access_key or None,
    )


@pytest.fixture(scope="module")
async def bus(isolated_bus: StackEndpoints) -> AsyncIterator[tuple[Client, EventBus]]:
    broker = NatsBroker(isolated_bus.nats_url)
    bus = EventBus(broker, STREAM, [FeedReceived], service="drops-test")
    async with nats_client(isolated_bus.nats_url) as client:
        await ensure_streams(client.jetstream(), StreamSettings(name=STREAM))
        await broker.start()
        try:
            yield client, bus
        finally:
            await broker.stop()
            await delete_streams(client, STREAM)


@pytest.fixture
async def rig(
    bus: tuple[Client, EventBus],
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> AsyncIterator[Rig]:
    """Ingest's schema of this test's own (so the poll sees only this test's watches)."""
    schema = f"drops_{unique_id}"
    pool = await create_pool(isolated_bus.database_url, schema)
    await apply_migrations(pool, schema, "relay_ingest.migrations")
    try:
        async with open_inbound_listing(_s3(isolated_bus)) as listing:
            yield Rig(bus[0], bus[1], pool, listing, object_store)
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


async def _watch(rig: Rig, tenant_id: str, *, watched: tuple[str, ...] = ("v1",)) -> None:
    """Store a config watching ``watched`` and hand its tenant.configured to the handler."""
    config = tenant_config(tenant_id)
    for vendor in config["vendors"]:
        if vendor["vendor_id"] in watched:
            vendor["inbound"] = {"type": "s3", "watch": True}
    await TenantConfigStore(rig.store).save(tenant_id, 1, config)
    since = datetime.now(UTC)
    await rig.handlers().on_tenant_configured(
        TenantConfigured(
            event_id=f"tenant.configured:{tenant_id}:1",
            occurred_at=since,
            tenant_id=tenant_id,
            correlation_id="c",
            name=tenant_id,
            channels=[],
            config_version=1,
        )
    )


async def _announced(rig: Rig, tenant_id: str) -> list[dict[str, Any]]:
    events = await stream_events(rig.client, STREAM, subjects.FEED_RECEIVED)
    return [e for e in events if e["tenant_id"] == tenant_id]


async def test_a_drop_seen_by_the_poll_is_one_feed_received(rig: Rig, unique_id: str) -> None:
    tenant_id = f"drop-{unique_id}"
    await _watch(rig, tenant_id)
    key = f"tenants/{tenant_id}/inbound/v1/sync/feed.csv"
    await rig.store.put_bytes(key, FEED)
    handlers = rig.handlers()

    assert await handlers.poll_once() == 1
    assert await handlers.poll_once() == 0

    [event] = await _announced(rig, tenant_id)
    listed = (await rig.listing.page(key, None)).objects[0]
    assert event["key"] == key
    assert (event["vendor_id"], event["run_id"], event["run_vendors"]) == ("v1", None, ["v1"])
    assert (event["config_version"], event["size"]) == (1, len(FEED))
    assert datetime.fromisoformat(event["as_of"]) == listed.last_modified
    assert event["event_id"].startswith(f"feed.received:drop:{tenant_id}:")


async def test_the_poll_and_the_notification_together_announce_once(
    rig: Rig, unique_id: str
) -> None:
    tenant_id = f"both-{unique_id}"
    await _watch(rig, tenant_id)
    keys = [f"tenants/{tenant_id}/inbound/v1/drop {n}.csv" for n in range(3)]
    for key in keys:
        await rig.store.put_bytes(key, FEED + key.encode())
    listed = (await rig.listing.page(f"tenants/{tenant_id}/inbound/", None)).objects
    notification = _minio_notification(rig.listing.bucket, listed)
    first, second = rig.handlers(), rig.handlers()  # two replicas

    counts = await asyncio.gather(
        first.on_notification(notification),
        second.poll_once(),
        first.poll_once(),
        second.on_notification(notification),
    )

    assert sum(counts) == 3
    announced = await _announced(rig, tenant_id)
    assert sorted(e["key"] for e in announced) == keys
    seen = await DropsRepository(rig.pool).seen(tenant_id)
    assert sorted(key for key, _, _ in seen) == keys
    assert {etag for _, etag, _ in seen} == {item.etag.strip('"') for item in listed}


async def test_a_rewrite_with_new_bytes_is_a_new_drop_the_same_bytes_are_not(
    rig: Rig, unique_id: str
) -> None:
    tenant_id = f"rewrite-{unique_id}"
    await _watch(rig, tenant_id)
    key = f"tenants/{tenant_id}/inbound/v1/feed.csv"
    handlers = rig.handlers()

    await rig.store.put_bytes(key, FEED)
    assert await handlers.poll_once() == 1
    await rig.store.put_bytes(key, FEED)
    assert await handlers.poll_once() == 0
    await rig.store.put_bytes(key, FEED + b"SKU-2,1,2.00\n")
    assert await handlers.poll_once() == 1

    announced = await _announced(rig, tenant_id)
    assert [(e["key"], e["size"]) for e in announced] == [
        (key, len(FEED)),
        (key, len(FEED) + 13),
    ]


async def test_only_files_of_watched_vendors_are_drops(rig: Rig, unique_id: str) -> None:
    tenant_id = f"only-{unique_id}"
    await _watch(rig, tenant_id)
    new = f"tenants/{tenant_id}/inbound/v1/new.csv"
    for key in (
        new,
        f"tenants/{tenant_id}/inbound/v2/unwatched.csv",
        f"tenants/{tenant_id}/inbound/v1/folder/",
        f"tenants/{tenant_id}/inbound/loose.csv",
    ):
        await rig.store.put_bytes(key, FEED)

    assert await rig.handlers().poll_once() == 1
    assert [e["key"] for e in await _announced(rig, tenant_id)] == [new]


def test_what_predates_the_watch_or_escapes_the_vendor_folder_is_no_drop() -> None:
    since = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    watch = Watch("t1", 3, ("v1",), since)
    objects = [
        BucketObject("tenants/t1/inbound/v1/a.csv", '"e1"', 1, since),
        BucketObject("tenants/t1/inbound/v1/old.csv", '"e2"', 1, since - timedelta(seconds=6)),
        BucketObject("tenants/t1/inbound/v1/skew.csv", '"e6"', 1, since - timedelta(seconds=4)),
        BucketObject("tenants/t1/inbound/v1/../v2/b.csv", '"e3"', 1, since),
        BucketObject("tenants/t1/inbound/v1//c.csv", '"e4"', 1, since),
        BucketObject("tenants/t2/inbound/v1/d.csv", '"e5"', 1, since),
    ]

    drop, skewed = drops(watch, objects)

    assert (drop.vendor_id, drop.object.key) == ("v1", "tenants/t1/inbound/v1/a.csv")
    assert skewed.object.key == "tenants/t1/inbound/v1/skew.csv"
    event = drop_feed_received(drop, watch.config_version)
    assert event.event_id == drop_event_id(drop)
    assert drop_event_id(drop) == drop_event_id(
        Drop("t1", "v1", BucketObject(drop.object.key, "E1", 9, since + timedelta(hours=1)))
    )
    assert (event.config_version, event.as_of, event.occurred_at) == (3, since, since)


async def test_a_malformed_or_foreign_notification_is_ignored(rig: Rig, unique_id: str) -> None:
    tenant_id = f"noise-{unique_id}"
    await _watch(rig, tenant_id)
    key = f"tenants/{tenant_id}/inbound/v1/feed.csv"
    await rig.store.put_bytes(key, FEED)
    listed = (await rig.listing.page(key, None)).objects
    handlers = rig.handlers()

    assert await handlers.on_notification(b"{not json") == 0
    assert await handlers.on_notification(b'{"Records": 3}') == 0
    assert await handlers.on_notification(_minio_notification("another-bucket", listed)) == 0
    assert await _announced(rig, tenant_id) == []
    assert await handlers.on_notification(_minio_notification(rig.listing.bucket, listed)) == 1


async def test_the_poll_costs_one_page_per_tenant_and_resumes_after_a_cut_page(
    rig: Rig, unique_id: str, isolated_bus: StackEndpoints
) -> None:
    tenants = [f"page{n}-{unique_id}" for n in range(2)]
    for tenant_id in tenants:
        await _watch(rig, tenant_id)
    keys = [f"tenants/{tenants[0]}/inbound/v1/{n:02d}.csv" for n in range(5)]
    for key in keys:
        await rig.store.put_bytes(key, FEED + key.encode())

    async with open_inbound_listing(_s3(isolated_bus)) as small:
        small.page_size = 2
        handlers = rig.handlers(small)
        found = [await handlers.poll_once() for _ in range(4)]
        assert small.calls == 4 * len(tenants)

    assert found == [2, 2, 1, 0]
    assert sorted(e["key"] for e in await _announced(rig, tenants[0])) == keys


def _minio_notification(bucket: str, objects: list[Any]) -> bytes:
    """What MinIO's NATS target publishes for these objects (keys URL-encoded)."""
    records = [
        {
            "eventVersion": "2.0",
            "eventSource": "minio:s3",
            "eventName": "s3:ObjectCreated:Put",
            "eventTime": item.last_modified.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                "object": {
                    "key": quote_plus(item.key),
                    "size": item.size,
                    "eTag": item.etag.strip('"'),
                    "sequencer": "17A0B",
                },
            },
        }
        for item in objects
    ]
    key = f"{bucket}/{objects[0].key}" if objects else bucket
    return json.dumps(
        {"EventName": "s3:ObjectCreated:Put", "Key": key, "Records": records}
    ).encode()
