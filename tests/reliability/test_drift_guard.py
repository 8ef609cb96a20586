"""The drift guard on the real pipeline: a feed that collapsed or went out of stock against
the vendor's last good run fails the run with ``feed_drift``, unless forced; the last good
feed stays the tenant's current one."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import keys
from relay_shared.storage import ObjectStore
from tests.support.jetstream import nats_client, run_outcome
from tests.support.pipeline_runs import V2, request_run, seed_tenant
from tests.support.running import running_pipeline

STREAM = "REL_DRIFT"


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    async with running_pipeline(isolated_bus, STREAM):
        yield


def v1_feed(in_stock: int, out_of_stock: int = 0) -> bytes:
    rows = [f"S-{i:02d},{5 if i < in_stock else 0},10.00" for i in range(in_stock + out_of_stock)]
    return ("SKU,QTY,COST\n" + "\n".join(rows) + "\n").encode()


async def run(
    isolated_bus: StackEndpoints,
    store: ObjectStore,
    tenant: str,
    run_id: str,
    v1: bytes,
    *,
    force: bool = False,
) -> dict[str, Any]:
    # upload ids sort by time: the newest upload is the one the run pins
    await seed_tenant(store, tenant, {"v1": v1, "v2": V2}, upload_id=f"{time.time_ns()}")
    async with nats_client(isolated_bus.nats_url) as client:
        await request_run(client, STREAM, tenant, run_id, force=force)
        return await run_outcome(client, STREAM, run_id, timeout=30)


async def current_feed(isolated_bus: StackEndpoints, tenant: str) -> str:
    conn = await asyncpg.connect(isolated_bus.database_url)
    try:
        scope: str = await conn.fetchval(
            "SELECT scope_id FROM pricing.latest_feeds WHERE tenant_id = $1 AND vendor_id = 'v1'",
            tenant,
        )
    finally:
        await conn.close()
    return scope


async def drift_item(store: ObjectStore, tenant: str, run_id: str) -> dict[str, Any]:
    errors = json.loads(await store.get_bytes(keys.report_key(tenant, run_id, "errors.json")))
    item: dict[str, Any] = errors["errors"][0]
    return item


async def test_a_collapsed_or_stocked_out_feed_fails_unless_forced(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t_{unique_id}"
    good = await run(isolated_bus, object_store, tenant, f"good_{unique_id}", v1_feed(10))
    assert good["event_id"] == f"offers.merged:good_{unique_id}"

    # 10 → 4 accepted rows: a 60% fall
    shrunk = await run(isolated_bus, object_store, tenant, f"shrunk_{unique_id}", v1_feed(4))
    assert (shrunk["event_id"], shrunk["code"]) == (f"run.failed:shrunk_{unique_id}", "feed_drift")
    item = await drift_item(object_store, tenant, f"shrunk_{unique_id}")
    assert (item["vendor_id"], item["row"], item["code"]) == ("v1", None, "feed_drift")
    assert item["value"] == "accepted_drop=60.0% (10->4); out_of_stock_flip=0.0% (0/4)"
    assert "accepted rows fell from 10 to 4 (60.0% drop" in item["message"]
    assert not await object_store.exists(
        keys.output_key(tenant, f"shrunk_{unique_id}", "merged_inventory.csv")
    )
    assert await current_feed(isolated_bus, tenant) == f"good_{unique_id}"

    # 3 of 10 shared SKUs out of stock: a 30% flip
    flipped = await run(isolated_bus, object_store, tenant, f"flipped_{unique_id}", v1_feed(7, 3))
    assert flipped["code"] == "feed_drift"
    item = await drift_item(object_store, tenant, f"flipped_{unique_id}")
    assert item["value"] == "accepted_drop=0.0% (10->10); out_of_stock_flip=30.0% (3/10)"
    assert await current_feed(isolated_bus, tenant) == f"good_{unique_id}"

    # within the limits (20% flip, 10 → 10 rows) passes
    fine = await run(isolated_bus, object_store, tenant, f"fine_{unique_id}", v1_feed(8, 2))
    assert fine["event_id"] == f"offers.merged:fine_{unique_id}"
    assert await current_feed(isolated_bus, tenant) == f"fine_{unique_id}"

    # forced: the collapse is accepted and becomes the new baseline
    forced = await run(
        isolated_bus, object_store, tenant, f"forced_{unique_id}", v1_feed(4), force=True
    )
    assert forced["event_id"] == f"offers.merged:forced_{unique_id}"
    assert forced["vendors"]["v1"]["accepted"] == 4
    assert await current_feed(isolated_bus, tenant) == f"forced_{unique_id}"
