"""A message that exhausts its deliveries lands in the dead-letter stream with its reason;
``relay dlq list`` shows it and ``relay dlq replay`` sends it back once, after the fix.

Ingest reaches S3 through a fault proxy that stays cut longer than its (small) retry budget:
3 deliveries, 0.2 s doubling.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlparse

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.storage import ObjectStore
from tests.support.fault_proxy import FaultProxy
from tests.support.jetstream import collect, nats_client, run_outcome
from tests.support.pipeline_runs import V1, V2, request_run, seed_tenant
from tests.support.running import running_pipeline

STREAM = "REL_DEADLETTER"
MAX_DELIVER = 3


@pytest.fixture(scope="module")
async def s3_proxy(isolated_bus: StackEndpoints) -> AsyncIterator[FaultProxy]:
    target = urlparse(isolated_bus.s3_endpoint_url)
    assert target.hostname is not None
    assert target.port is not None
    with FaultProxy(target.hostname, target.port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints, s3_proxy: FaultProxy) -> AsyncIterator[None]:
    async with running_pipeline(
        isolated_bus,
        STREAM,
        ingest_s3_endpoint_url=s3_proxy.url,
        max_deliver=MAX_DELIVER,
        retry_base_delay_s=0.2,
    ):
        yield


async def relay_dlq(isolated_bus: StackEndpoints, *args: str) -> tuple[int, str, str]:
    """``relay dlq ...`` as its own process (the real command line)."""
    env = {**os.environ, "APP_NATS_URL": isolated_bus.nats_url, "APP_NATS_STREAM": STREAM}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "relay_cli",
        "dlq",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_exhausted_message_is_dead_lettered_listed_and_replayed_once(
    pipeline: None,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    s3_proxy: FaultProxy,
    unique_id: str,
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await seed_tenant(object_store, tenant, {"v1": V1, "v2": V2})
    s3_proxy.cut()
    try:
        async with nats_client(isolated_bus.nats_url) as client:
            await request_run(client, STREAM, tenant, run_id)
            failed = await run_outcome(client, STREAM, run_id, timeout=90)
            await collect(
                client,
                f"{STREAM}_DLQ",
                subjects.dead_letter_subject(subjects.RUN_REQUESTED),
                until=lambda r: r["event_id"] == f"run.requested:{run_id}",
                timeout=30,
            )
    finally:
        s3_proxy.heal()
    # the run is not left hanging: it failed, without a report (the bucket was away)
    assert (failed["code"], failed["report_key"]) == ("deliveries_exhausted", None)

    code, out, _ = await relay_dlq(isolated_bus, "list", "--json")
    assert code == 0
    ours = [e for e in map(json.loads, out.splitlines()) if e["event_id"] == failed_request(run_id)]
    assert len(ours) == 1
    entry = ours[0]
    assert (entry["subject"], entry["service"], entry["code"], entry["deliveries"]) == (
        subjects.RUN_REQUESTED,
        "ingest",
        "deliveries_exhausted",
        MAX_DELIVER,
    )
    assert entry["reason"].startswith(f"gave up after {MAX_DELIVER} deliveries")
    assert datetime.fromisoformat(entry["failed_at"]).tzinfo is not None
    code, table, _ = await relay_dlq(isolated_bus, "list")
    assert code == 0
    assert table.splitlines()[0].split("\t") == [
        "ID", "SUBJECT", "SERVICE", "CODE", "DELIVERIES", "FAILED_AT", "REASON"
    ]  # fmt: skip
    assert f"{entry['id']}\t{subjects.RUN_REQUESTED}\tingest\tdeliveries_exhausted\t3\t" in table

    code, out, _ = await relay_dlq(isolated_bus, "replay", str(entry["id"]))
    assert (code, out) == (
        0,
        f"replayed {entry['id']} ({failed_request(run_id)}) to {subjects.RUN_REQUESTED}\n",
    )
    async with nats_client(isolated_bus.nats_url) as client:
        merged = await collect(
            client,
            STREAM,
            subjects.OFFERS_MERGED,
            until=lambda e: e["run_id"] == run_id,
            timeout=30,
        )
    assert merged[-1]["event_id"] == f"offers.merged:{run_id}"

    code, out, _ = await relay_dlq(isolated_bus, "list", "--json")
    assert code == 0
    assert failed_request(run_id) not in out
    code, _, err = await relay_dlq(isolated_bus, "replay", str(entry["id"]))
    assert code == 1
    assert f"no dead letter {entry['id']}" in err


def failed_request(run_id: str) -> str:
    return f"run.requested:{run_id}"
