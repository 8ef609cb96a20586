"""The feed pipeline on real JetStream, Postgres and S3: ingest → normalize → pricing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import keys, subjects
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, nats_client, run_outcome
from tests.support.pipeline_runs import V1, V2, request_run, seed_tenant, tenant_config
from tests.support.running import running_pipeline

STREAM = "RELAY"


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    async with running_pipeline(isolated_bus, STREAM):
        yield


async def start_run(
    stack: StackEndpoints,
    store: ObjectStore,
    tenant: str,
    run_id: str,
    feeds: dict[str, bytes],
    max_invalid_row_pct: float = 0.5,
) -> None:
    """The tenant's config and inbound feeds, then its run.requested."""
    config = tenant_config(tenant, max_invalid_row_pct=max_invalid_row_pct)
    await seed_tenant(store, tenant, feeds, config)
    async with nats_client(stack.nats_url) as client:
        await request_run(client, STREAM, tenant, run_id)


async def test_run_merges_prices_and_reports(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await start_run(isolated_bus, object_store, tenant, run_id, {"v1": V1, "v2": V2})

    async with nats_client(isolated_bus.nats_url) as client:
        merged = await run_outcome(client, STREAM, run_id)
        seen: set[str] = set()

        def both_vendors(event: dict[str, Any]) -> bool:  # normalize takes feeds two at once
            if event["scope_id"] == run_id:
                seen.add(event["vendor_id"])
            return seen == {"v1", "v2"}

        normalized = await collect(client, STREAM, subjects.ROWS_NORMALIZED, until=both_vendors)
    assert merged["merged_rows"] == 3
    assert merged["correlation_id"] == f"corr-{run_id}"
    assert merged["event_id"] == f"offers.merged:{run_id}"
    assert merged["vendors"]["v2"] == {
        "rows": 4,
        "accepted": 3,
        "rejected": 1,
        "duplicates": 0,
        "warnings": 0,
        "sha256": hashlib.sha256(V2).hexdigest(),
    }
    ours = [(e["vendor_id"], e["status"]) for e in normalized if e["scope_id"] == run_id]
    assert sorted(ours) == [("v1", "ok"), ("v2", "ok")]
    csv = await object_store.get_bytes(keys.output_key(tenant, run_id, "merged_inventory.csv"))
    assert csv == (
        b"sku,quantity_available,price,vendor_id,updated_at\n"
        b"A-1,3,10.80,v2,2026-01-01T00:00:00Z\n"
        b"B-2,4,30.00,v2,2026-01-01T00:00:00Z\n"
        b"C-3,1,6.00,v2,2026-01-01T00:00:00Z\n"
    )
    errors = json.loads(
        await object_store.get_bytes(keys.report_key(tenant, run_id, "errors.json"))
    )
    assert [
        (e["vendor_id"], e["row"], e["column"], e["code"], e["value"]) for e in errors["errors"]
    ] == [("v2", 5, "quantity_available", "invalid_quantity", "ten")]


async def test_too_many_invalid_rows_fails_the_run_with_its_report(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    feeds = {"v1": V1, "v2": V2}
    await start_run(isolated_bus, object_store, tenant, run_id, feeds, max_invalid_row_pct=0.05)

    async with nats_client(isolated_bus.nats_url) as client:
        failed = await run_outcome(client, STREAM, run_id)
    assert failed["event_id"] == f"run.failed:{run_id}"
    assert failed["code"] == "too_many_invalid_rows"
    assert failed["report_key"] == keys.report_key(tenant, run_id, "errors.json")
    assert not await object_store.exists(keys.output_key(tenant, run_id, "merged_inventory.csv"))
    summary = json.loads(
        await object_store.get_bytes(keys.report_key(tenant, run_id, "run_summary.json"))
    )
    assert summary["status"] == "failed"
    assert summary["merged_rows"] == 0
    assert summary["vendors"]["v2"]["status"] == "failed"
    assert summary["vendors"]["v1"]["status"] == "ok"


async def test_missing_required_feed_fails_the_run(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await start_run(isolated_bus, object_store, tenant, run_id, {"v1": V1})

    async with nats_client(isolated_bus.nats_url) as client:
        failed = await run_outcome(client, STREAM, run_id)
    assert (failed["event_id"], failed["code"]) == (f"run.failed:{run_id}", "missing_feed")
    errors = json.loads(
        await object_store.get_bytes(keys.report_key(tenant, run_id, "errors.json"))
    )
    assert [(e["vendor_id"], e["code"]) for e in errors["errors"]] == [("v2", "missing_feed")]
