"""Bucket drops through the running services (ingest, normalize, pricing on real JetStream,
Postgres and S3): a file put straight into the bucket under a watched vendor's inbound prefix
reaches ``offers.merged`` with no API call, by MinIO's notification or by the poll; two ingest
replicas (one listening to notifications, one polling) announce it once."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import asyncpg
import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.domain.schedules import scheduled_run_id
from relay_ingest.settings import IngestSettings
from relay_normalize.app import NormalizeApp
from relay_normalize.settings import NormalizeSettings
from relay_pricing.app import PricingApp
from relay_pricing.settings import PricingSettings
from relay_shared import subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import TenantConfigured
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import next_run_after
from tests.support.jetstream import (
    collect,
    nats_client,
    publish,
    stream_events,
    wait_consumed,
    wait_for_stream,
)
from tests.support.pipeline_runs import durable, tenant_config, wait_for_consumers
from tests.support.polling import wait_until
from tests.support.running import running

pytestmark = pytest.mark.stack
STREAM = "DROPS_PIPELINE"
EVENTS_SUBJECT = f"test.minio.events.{uuid.uuid4().hex[:8]}"
FEED = b"SKU,QTY,COST\nsku-1,3,10.00\nsku-2,0,5.50\n"


@pytest.fixture(scope="module")
async def services(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    """Two ingest replicas (one only listens to bucket notifications, one only polls, every
    0.2 s; both look for due scheduled runs every 0.1 s), normalize and pricing."""
    env = isolated_bus.as_env()
    apps = [
        IngestApp(
            IngestSettings.from_env(
                env,
                nats_stream=STREAM,
                inbound_poll_s=0,
                bucket_events_subject=EVENTS_SUBJECT,
                schedule_tick_s=0.1,
            )
        ),
        IngestApp(
            IngestSettings.from_env(
                env, nats_stream=STREAM, inbound_poll_s=0.2, schedule_tick_s=0.1
            )
        ),
        NormalizeApp(NormalizeSettings.from_env(env, nats_stream=STREAM)),
        PricingApp(PricingSettings.from_env(env, nats_stream=STREAM)),
    ]
    async with running(apps), nats_client(isolated_bus.nats_url) as client:
        await wait_for_stream(client, STREAM)
        await wait_for_consumers(client, STREAM)
        yield


async def _watch(client: Client, store: ObjectStore, tenant_id: str, **extra: Any) -> None:
    """v1 watched, v2 optional: a v1 drop alone makes a merged feed."""
    config = tenant_config(tenant_id)
    config.update(extra)
    config["vendors"][0]["inbound"] = {"type": "s3", "watch": True}
    config["vendors"][1]["required"] = False
    await TenantConfigStore(store).save(tenant_id, 1, config)
    seq = await publish(
        client,
        STREAM,
        TenantConfigured(
            event_id=f"tenant.configured:{tenant_id}:1",
            occurred_at=datetime.now(UTC),
            tenant_id=tenant_id,
            correlation_id=f"corr-{tenant_id}",
            name=tenant_id,
            channels=[],
            config_version=1,
        ),
    )
    await wait_consumed(client, STREAM, durable("ingest", subjects.TENANT_CONFIGURED), seq)


async def _merged(client: Client, tenant_id: str, run_prefix: str = "") -> dict[str, Any]:
    events = await collect(
        client,
        STREAM,
        subjects.OFFERS_MERGED,
        until=lambda e: e["tenant_id"] == tenant_id and e["run_id"].startswith(run_prefix),
        timeout=30.0,
    )
    return events[-1]


async def _polled_since(database_url: str, tenant_id: str, since: datetime) -> None:
    """Until the polling replica has listed the tenant after ``since`` (it found the drop
    already recorded by then)."""
    conn = await asyncpg.connect(database_url)
    try:

        async def polled() -> bool:
            at = await conn.fetchval(
                "SELECT polled_at FROM ingest.inbound_watches WHERE tenant_id = $1", tenant_id
            )
            return at is not None and at > since

        await wait_until(polled, 30.0, "a poll of the tenant after the drop")
    finally:
        await conn.close()


@pytest.mark.usefixtures("services")
async def test_a_drop_announced_by_minio_and_seen_by_the_poll_is_merged_once(
    isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"minio-{unique_id}"
    key = f"tenants/{tenant_id}/inbound/v1/nightly sync/feed.csv"
    async with nats_client(isolated_bus.nats_url) as client:
        await _watch(client, object_store, tenant_id)
        await object_store.put_bytes(key, FEED)
        dropped = datetime.now(UTC)
        await client.publish(EVENTS_SUBJECT, _minio_event(isolated_bus.s3_bucket, key))
        merged = await _merged(client, tenant_id)
        await _polled_since(isolated_bus.database_url, tenant_id, dropped)
        feeds = [
            e
            for e in await stream_events(client, STREAM, subjects.FEED_RECEIVED)
            if e["tenant_id"] == tenant_id
        ]

    assert [(e["key"], e["run_id"], e["vendor_id"]) for e in feeds] == [(key, None, "v1")]
    assert merged["run_id"] == feeds[0]["event_id"]
    assert (merged["merged_rows"], merged["skus_left_out"]) == (2, 0)
    output = await object_store.get_bytes(merged["merged_key"])
    as_of = datetime.fromisoformat(feeds[0]["as_of"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert output.decode().splitlines()[1:] == [
        f"SKU-1,3,12.00,v1,{as_of}",
        f"SKU-2,0,6.60,v1,{as_of}",
    ]


@pytest.mark.usefixtures("services")
async def test_a_drop_on_an_s3_that_cannot_notify_is_polled_into_a_merged_feed(
    isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"poll-{unique_id}"
    key = f"tenants/{tenant_id}/inbound/v1/feed.csv"
    async with nats_client(isolated_bus.nats_url) as client:
        await _watch(client, object_store, tenant_id)
        started = time.monotonic()
        await object_store.put_bytes(key, FEED)
        merged = await _merged(client, tenant_id)
        elapsed = time.monotonic() - started

    assert merged["merged_rows"] == 2
    assert merged["run_id"].startswith(f"feed.received:drop:{tenant_id}:")
    assert elapsed < 10.0


def _minio_event(bucket: str, key: str) -> bytes:
    """MinIO's NATS target message for a put (the ETag is what S3 lists, without quotes)."""
    return json.dumps(
        {
            "EventName": "s3:ObjectCreated:Put",
            "Key": f"{bucket}/{key}",
            "Records": [
                {
                    "eventVersion": "2.0",
                    "eventSource": "minio:s3",
                    "eventName": "s3:ObjectCreated:Put",
                    "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "s3": {
                        "bucket": {"name": bucket},
                        "object": {
                            "key": quote_plus(key),
                            "size": len(FEED),
                            "eTag": hashlib.md5(FEED).hexdigest(),  # S3 lists an MD5 ETag
                        },
                    },
                }
            ],
        }
    ).encode()


@pytest.mark.usefixtures("services")
async def test_a_due_schedule_starts_one_run_across_two_replicas(
    isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"sched-{unique_id}"
    upload = f"tenants/{tenant_id}/inbound/v1/2026/12/05/up-1/raw.csv"  # also a drop
    conn = await asyncpg.connect(isolated_bus.database_url)
    try:
        async with nats_client(isolated_bus.nats_url) as client:
            await _watch(client, object_store, tenant_id, schedule={"runs": "0 6 * * *"})
            await object_store.put_bytes(upload, FEED)
            due = await conn.fetchval(
                "UPDATE ingest.run_schedules SET next_due_at = now() WHERE tenant_id = $1"
                " RETURNING next_due_at",
                tenant_id,
            )
            merged = await _merged(client, tenant_id, "sched-")
            requested = [
                e
                for e in await stream_events(client, STREAM, subjects.RUN_REQUESTED)
                if e["tenant_id"] == tenant_id
            ]
        next_due = await conn.fetchval(
            "SELECT next_due_at FROM ingest.run_schedules WHERE tenant_id = $1", tenant_id
        )
    finally:
        await conn.close()

    [run] = requested
    assert run["run_id"] == scheduled_run_id(tenant_id, due)
    assert datetime.fromisoformat(run["occurred_at"]) == due
    assert (merged["run_id"], merged["merged_rows"]) == (run["run_id"], 2)
    assert next_due == next_run_after("0 6 * * *", "UTC", due)
