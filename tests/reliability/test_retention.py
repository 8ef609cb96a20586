"""Retention: what a service sets up at start, read back from the servers themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.session import get_session
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType

from relay_cli.stack import StackEndpoints
from relay_normalize.app import NormalizeApp
from relay_normalize.settings import NormalizeSettings
from relay_shared import keys, subjects
from relay_shared.storage import RETENTION_DAYS, RETENTION_TAG
from tests.support.jetstream import nats_client, wait_for_durables, wait_for_stream
from tests.support.running import running

DAY_S = 86_400


@pytest.fixture
async def s3(isolated_bus: StackEndpoints) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "s3",
        region_name=isolated_bus.s3_region,
        endpoint_url=isolated_bus.s3_endpoint_url,
        aws_access_key_id=isolated_bus.s3_access_key_id,
        aws_secret_access_key=isolated_bus.s3_secret_access_key,
    ) as client:
        yield client


async def test_a_starting_service_sets_lifecycle_encryption_and_tags_retained_objects(
    isolated_bus: StackEndpoints, s3: Any, unique_id: str
) -> None:
    bucket = f"retention-{unique_id}"
    app = NormalizeApp(NormalizeSettings.from_env(isolated_bus.as_env(), s3_bucket=bucket))
    async with app.wired() as handlers:
        output = keys.output_key("acme", "run_1", "merged_inventory.csv")
        config = keys.config_version_key("acme", 1)
        await handlers.store.put_bytes(output, b"sku\n")
        await handlers.store.put_bytes(config, b"{}", content_type="application/json")

    lifecycle = await s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert [(r["Status"], r["Filter"], r["Expiration"]) for r in lifecycle["Rules"]] == [
        ("Enabled", {"Tag": {"Key": RETENTION_TAG, "Value": "30d"}}, {"Days": RETENTION_DAYS})
    ]
    encryption = await s3.get_bucket_encryption(Bucket=bucket)
    rules = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    tagged = await s3.get_object_tagging(Bucket=bucket, Key=output)
    assert tagged["TagSet"] == [{"Key": RETENTION_TAG, "Value": "30d"}]
    untagged = await s3.get_object_tagging(Bucket=bucket, Key=config)
    assert untagged["TagSet"] == []


async def test_streams_are_bounded_so_the_bus_cannot_fill_the_disk(
    isolated_bus: StackEndpoints, unique_id: str
) -> None:
    stream = f"REL_RET_{unique_id}"
    settings = NormalizeSettings.from_env(isolated_bus.as_env(), nats_stream=stream)
    async with running([NormalizeApp(settings)]), nats_client(isolated_bus.nats_url) as client:
        # the service declares the pipeline stream, then its dead-letter stream: wait for both
        for name in (stream, subjects.dead_letter_stream(stream)):
            await wait_for_stream(client, name)
        js = client.jetstream()
        pipeline = (await js.stream_info(stream)).config
        dead = (await js.stream_info(subjects.dead_letter_stream(stream))).config
        durable = subjects.durable_name("normalize", subjects.FEED_RECEIVED)
        await wait_for_durables(client, stream, [durable], 30)
        consumer = (await js.consumer_info(stream, durable)).config

    assert (pipeline.retention, pipeline.storage, pipeline.discard) == (
        RetentionPolicy.LIMITS,
        StorageType.FILE,
        DiscardPolicy.OLD,
    )
    assert (pipeline.max_age, pipeline.max_bytes, pipeline.duplicate_window) == (
        14 * DAY_S,
        2 * 1024**3,
        300,
    )
    assert (dead.max_age, dead.max_bytes, dead.discard, dead.subjects) == (
        30 * DAY_S,
        512 * 1024**2,
        DiscardPolicy.OLD,
        ["dlq.>"],
    )
    assert (consumer.ack_wait, consumer.max_deliver) == (10, 8)
