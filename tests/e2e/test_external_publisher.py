"""The external publisher's contract, against every service running as its own process:
``examples/publish_feed.py`` (nats-py and aiobotocore, run as a process like another system
would) uploads a feed and publishes its ``feed.received``; the tenant's merged output is
that feed, and changes with the next one. An event that does not fit the schema is
dead-lettered as ``invalid_event`` with its validation errors, and ``relay dlq list`` shows
it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from relay_cli.gateway_client import GatewayClient
from relay_shared import subjects
from relay_shared.bus.publishing import MSG_ID_HEADER
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, nats_client
from tests.support.live_system import LiveSystem
from tests.support.pipeline_runs import tenant_config

pytestmark = pytest.mark.stack
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "publish_feed.py"
STREAM = "RELAY"
PROCESS_TIMEOUT_S = 120.0
FIRST = b"SKU,QTY,COST\nsku-1,3,10.00\nsku-2,0,5.50\n"
SECOND = b"SKU,QTY,COST\nsku-1,7,10.00\nsku-3,2,20.00\n"


async def _run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), PROCESS_TIMEOUT_S)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _tenant(system: LiveSystem, tenant_id: str) -> int:
    """A tenant whose v1 is required and v2 optional (v2 never sends a feed here)."""
    config = tenant_config(tenant_id)
    config["vendors"][1]["required"] = False
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, system.gateway_url, system.admin_key)
        owner = await admin.create_tenant(tenant_id, "Publisher test", [])
        return await admin.as_key(owner).put_config(tenant_id, yaml.safe_dump(config))


async def _publish_example(
    system: LiveSystem, path: Path, tenant_id: str, version: int, feed: bytes
) -> tuple[int, str, str]:
    endpoints = system.endpoints
    await asyncio.to_thread(path.write_bytes, feed)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "APP_"))},
        "AWS_ACCESS_KEY_ID": endpoints.s3_access_key_id or "testing",
        "AWS_SECRET_ACCESS_KEY": endpoints.s3_secret_access_key or "testing",
        "AWS_ENDPOINT_URL_S3": endpoints.s3_endpoint_url,
        "AWS_REGION": endpoints.s3_region,
        "NATS_URL": endpoints.nats_url,
        "RELAY_BUCKET": endpoints.s3_bucket,
    }
    return await _run(
        str(EXAMPLE), str(path),
        "--tenant", tenant_id, "--vendor", "v1", "--config-version", str(version),
        "--wait", "60",
        env=env,
    )  # fmt: skip


def _published(out: str, tenant_id: str) -> tuple[str, str]:
    """The event id and merged key the example printed (its four lines, checked)."""
    lines = out.splitlines()
    assert len(lines) == 4, out
    assert re.fullmatch(
        rf"uploaded s3://\S+/tenants/{tenant_id}/inbound/v1/\S+/raw\.csv \(\d+ bytes\)", lines[0]
    )
    published = re.fullmatch(rf"published feed\.received (\S+) \({STREAM} seq \d+\)", lines[1])
    assert published is not None, out
    assert lines[2] == "normalized v1: ok, 2 rows accepted, 0 rejected", out
    merged = re.fullmatch(r"merged: 2 rows -> s3://[^/]+/(\S+)", lines[3])
    assert merged is not None, out
    return published.group(1), merged.group(1)


async def _feed_event(system: LiveSystem, event_id: str) -> dict[str, Any]:
    async with nats_client(system.endpoints.nats_url) as client:
        events = await collect(
            client, STREAM, subjects.FEED_RECEIVED, until=lambda e: e["event_id"] == event_id
        )
    return events[-1]


async def _merged_lines(
    system: LiveSystem, store: ObjectStore, event_id: str, merged_key: str
) -> list[str]:
    as_of = datetime.fromisoformat((await _feed_event(system, event_id))["as_of"])
    stamp = as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (await store.get_bytes(merged_key)).decode()
    return [line.replace(stamp, "<as_of>") for line in text.splitlines()[1:]]


async def test_the_example_publishes_a_feed_that_changes_the_merged_output(
    live_system: LiveSystem, object_store: ObjectStore, tmp_path: Path, unique_id: str
) -> None:
    tenant_id = f"pub_{unique_id}"
    version = await _tenant(live_system, tenant_id)

    first = await _publish_example(live_system, tmp_path / "first.csv", tenant_id, version, FIRST)
    assert first[0] == 0, first
    first_id, first_key = _published(first[1], tenant_id)
    second = await _publish_example(
        live_system, tmp_path / "second.csv", tenant_id, version, SECOND
    )
    assert second[0] == 0, second
    second_id, second_key = _published(second[1], tenant_id)

    assert first_id != second_id
    assert first_key == f"tenants/{tenant_id}/outputs/{first_id}/merged_inventory.csv"
    assert await _merged_lines(live_system, object_store, first_id, first_key) == [
        "SKU-1,3,12.00,v1,<as_of>",
        "SKU-2,0,6.60,v1,<as_of>",
    ]
    assert await _merged_lines(live_system, object_store, second_id, second_key) == [
        "SKU-1,7,12.00,v1,<as_of>",
        "SKU-3,2,24.00,v1,<as_of>",
    ]


async def test_the_same_file_published_again_is_dropped_as_a_duplicate(
    live_system: LiveSystem, tmp_path: Path, unique_id: str
) -> None:
    tenant_id = f"dup_{unique_id}"
    version = await _tenant(live_system, tenant_id)
    first = await _publish_example(live_system, tmp_path / "first.csv", tenant_id, version, FIRST)
    event_id, _ = _published(first[1], tenant_id)

    again = await _publish_example(live_system, tmp_path / "again.csv", tenant_id, version, FIRST)

    assert (again[0], again[1].splitlines()[1:]) == (
        0,
        [f"already published: {event_id} (dropped as a duplicate)"],
    )


async def _relay_dlq_list(system: LiveSystem) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "APP_NATS_URL": system.endpoints.nats_url,
        "APP_NATS_STREAM": STREAM,
    }
    code, out, err = await _run("-m", "relay_cli", "dlq", "list", "--json", env=env)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


async def test_an_invalid_feed_received_is_dead_lettered_with_its_errors(
    live_system: LiveSystem, unique_id: str
) -> None:
    event_id = f"feed.received:ext:bad:{unique_id}"
    payload = {
        "schema_version": 1,
        "event_id": event_id,
        "occurred_at": "2026-11-22T10:00:00Z",
        "tenant_id": f"bad_{unique_id}",
        "correlation_id": event_id,
        "config_version": 0,
        "key": f"tenants/bad_{unique_id}/inbound/v1/feed.csv",
        "as_of": "2026-11-22T10:00:00",
        "colour": "blue",
    }
    async with nats_client(live_system.endpoints.nats_url) as client:
        await client.jetstream().publish(
            subjects.FEED_RECEIVED,
            json.dumps(payload).encode(),
            stream=STREAM,
            headers={MSG_ID_HEADER: event_id},
        )
        await collect(
            client,
            f"{STREAM}_DLQ",
            subjects.dead_letter_subject(subjects.FEED_RECEIVED),
            until=lambda r: r["event_id"] == event_id and r["service"] == "normalize",
        )

    listed = [row for row in await _relay_dlq_list(live_system) if row["event_id"] == event_id]

    normalize = [row for row in listed if row["service"] == "normalize"]
    assert [(r["subject"], r["code"], r["deliveries"]) for r in normalize] == [
        (subjects.FEED_RECEIVED, "invalid_event", 1)
    ]
    assert normalize[0]["reason"] == (  # in the model's field order (the run context first)
        "as_of: Input should have timezone info; "
        "vendor_id: Field required; "
        "config_version: Input should be greater than or equal to 1; "
        "colour: Extra inputs are not permitted"
    )
