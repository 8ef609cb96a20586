"""Permanent faults fail the run within seconds, name their cause in errors.json, and are
never retried (every consumer delivered each message exactly once)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import keys, subjects
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, nats_client, run_outcome
from tests.support.pipeline_runs import (
    V1,
    V2,
    deliveries,
    request_run,
    seed_tenant,
    stream_messages,
    tenant_config,
    wait_drained,
)
from tests.support.running import running_pipeline

STREAM = "REL_PERMANENT"
FAILS_WITHIN_S = 10.0


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    async with running_pipeline(isolated_bus, STREAM):
        yield


CASES: dict[str, dict[str, Any]] = {
    "unparseable_file": {"feeds": {"v1": b"[{not json", "v2": V2}, "v1_format": "json"},
    "missing_column": {"feeds": {"v1": b"SKU,QTY\nA-1,5\n", "v2": V2}},
    "config_missing": {"feeds": {"v1": V1, "v2": V2}, "config_version": 7},
    "missing_feed": {"feeds": {"v1": V1}},
}
#: Messages each consumer gets for one run of the case (each delivered exactly once).
DELIVERED = {
    "unparseable_file": {"ingest": 1, "normalize": 2, "pricing": 2},
    "missing_column": {"ingest": 1, "normalize": 2, "pricing": 2},
    "config_missing": {"ingest": 1, "normalize": 0, "pricing": 0},
    "missing_feed": {"ingest": 1, "normalize": 2, "pricing": 2},
}
CAUSE_VENDOR = {
    "unparseable_file": "v1",
    "missing_column": "v1",
    "config_missing": None,
    "missing_feed": "v2",
}


@pytest.mark.parametrize("code", list(CASES))
async def test_permanent_fault_fails_the_run_fast_and_is_never_retried(
    code: str,
    pipeline: None,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    case = CASES[code]
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    config = tenant_config(tenant, v1_format=case.get("v1_format", "csv"))
    await seed_tenant(object_store, tenant, case["feeds"], config)

    async with nats_client(isolated_bus.nats_url) as client:
        await wait_drained(client, STREAM)
        before = await deliveries(client, STREAM)
        started = time.monotonic()
        await request_run(
            client, STREAM, tenant, run_id, config_version=case.get("config_version", 1)
        )
        failed = await run_outcome(client, STREAM, run_id, timeout=FAILS_WITHIN_S)
        took = time.monotonic() - started
        await wait_drained(client, STREAM)
        after = await deliveries(client, STREAM)
        messages = await stream_messages(client, STREAM)

    assert took < FAILS_WITHIN_S
    assert (failed["event_id"], failed["code"]) == (f"run.failed:{run_id}", code)
    assert failed["report_key"] == keys.report_key(tenant, run_id, "errors.json")
    errors = json.loads(await object_store.get_bytes(failed["report_key"]))["errors"]
    assert (errors[0]["vendor_id"], errors[0]["row"], errors[0]["code"]) == (
        CAUSE_VENDOR[code],
        None,
        code,
    )
    assert {s: after[s] - before[s] for s in after} == DELIVERED[code]
    failures = [p for s, p in messages if s == subjects.RUN_FAILED and p["run_id"] == run_id]
    assert len(failures) == 1
    assert not await object_store.exists(keys.output_key(tenant, run_id, "merged_inventory.csv"))


async def test_a_rejected_run_request_is_dead_lettered_after_one_delivery(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await seed_tenant(object_store, tenant, {"v1": V1, "v2": V2})
    async with nats_client(isolated_bus.nats_url) as client:
        await request_run(client, STREAM, tenant, run_id, config_version=9)
        letters = await collect(
            client,
            f"{STREAM}_DLQ",
            subjects.dead_letter_subject(subjects.RUN_REQUESTED),
            until=lambda record: record["event_id"] == f"run.requested:{run_id}",
            timeout=FAILS_WITHIN_S,
        )
    letter = letters[-1]
    assert (letter["service"], letter["subject"], letter["code"], letter["deliveries"]) == (
        "ingest",
        subjects.RUN_REQUESTED,
        "config_missing",
        1,
    )
    assert json.loads(letter["payload"])["run_id"] == run_id
