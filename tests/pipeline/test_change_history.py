"""Change history and delta feeds through the real services (gateway, ingest, normalize,
pricing in-process on real JetStream, Postgres and S3): changes.csv against the previous
successful run, the SKU history endpoint, and ``output.mode: delta`` with its full snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import keys, subjects
from relay_shared.storage import ObjectStore
from tests.gateway.harness import (
    Gateway,
    api_key,
    auth,
    create_tenant,
    eventually,
    stream_events,
)

pytestmark = pytest.mark.stack

FEED_1 = b"SKU,QTY,COST\nA-1,5,10.00\nB-2,2,20.00\nC-3,1,5.00\n"
FEED_2 = b"SKU,QTY,COST\nA-1,5,11.00\nC-3,4,5.00\nD-4,0,1.00\n"
FEED_3 = b"SKU,QTY,COST\nA-1,5,11.00\nC-3,3,5.00\nD-4,0,1.00\n"
COLUMNS = ["sku", "quantity_available", "price", "vendor_id"]


def _config(tenant_id: str, **output: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "vendors": [
            {
                "vendor_id": "v1",
                "parser": {
                    "column_map": {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
                },
            }
        ],
        "pricing": {"base_margin_pct": 0.20},
        "output": {"columns": COLUMNS, **output},
    }


async def _tenant(gateway: Gateway, tenant_id: str, **output: Any) -> str:
    owner = await create_tenant(gateway, tenant_id)
    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=_config(tenant_id, **output), headers=auth(owner)
    )
    assert response.status == 201, await response.text()
    return owner


async def _run(
    gateway: Gateway,
    tenant_id: str,
    owner: str,
    feed: bytes,
    outcome: str = "SUCCEEDED",
    **body: Any,
) -> str:
    """Upload v1's feed, run, and wait for the run's ``outcome``; its run id."""
    upload = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/vendors/v1/feed", data=feed, headers=auth(owner)
    )
    assert upload.status == 201, await upload.text()
    response = await gateway.client.post("/v1/runs", json=body, headers=auth(owner))
    assert response.status == 202, await response.text()
    run_id: str = (await response.json())["run_id"]

    async def finished() -> dict[str, Any] | None:
        got = await gateway.client.get(f"/v1/runs/{run_id}", headers=auth(owner))
        run: dict[str, Any] = await got.json()
        return run if run["status"] in {"SUCCEEDED", "FAILED"} else None

    assert (await eventually(finished, deadline_s=60.0))["status"] == outcome
    return run_id


async def _output(store: ObjectStore, tenant_id: str, run_id: str, name: str) -> bytes:
    return await store.get_bytes(keys.output_key(tenant_id, run_id, name))


async def _history(gateway: Gateway, key: str, tenant_id: str, sku: str, query: str = "") -> Any:
    response = await gateway.client.get(
        f"/v1/tenants/{tenant_id}/skus/{sku}/history{query}", headers=auth(key)
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def _merged_event(gateway: Gateway, run_id: str) -> dict[str, Any]:
    events = await stream_events(gateway.nats_url, subjects.OFFERS_MERGED)
    (found,) = [event for event in events if event["run_id"] == run_id]
    return found


async def test_two_runs_write_changes_csv_and_the_sku_history(
    system: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await _tenant(system, tenant)
    first = await _run(system, tenant, owner, FEED_1)
    second = await _run(system, tenant, owner, FEED_2)

    # the tenant's first run is the baseline: nothing to compare with
    assert await _output(object_store, tenant, first, "changes.csv") == b"sku,column,old,new\n"
    assert await _output(object_store, tenant, second, "changes.csv") == (
        b"sku,column,old,new\n"
        b"A-1,price,12.00,13.20\n"
        b"B-2,sku,B-2,\nB-2,quantity_available,2,\nB-2,price,24.00,\nB-2,vendor_id,v1,\n"
        b"C-3,quantity_available,1,4\n"
        b"D-4,sku,,D-4\nD-4,quantity_available,,0\nD-4,price,,1.20\nD-4,vendor_id,,v1\n"
    )
    # full mode: the merged feed is the whole feed, as before
    assert await _output(object_store, tenant, second, "merged_inventory.csv") == (
        b"sku,quantity_available,price,vendor_id\nA-1,5,13.20,v1\nC-3,4,6.00,v1\nD-4,0,1.20,v1\n"
    )
    merged = await _merged_event(system, second)
    assert merged["merged_key"] == keys.output_key(tenant, second, "merged_inventory.csv")
    assert merged["changes"]["changes_key"] == keys.output_key(tenant, second, "changes.csv")
    assert merged["changes"]["delta"] is False

    viewer = await api_key(system, tenant, owner, "viewer")
    third = await _run(system, tenant, owner, FEED_3)
    c3 = await _history(system, viewer, tenant, "C-3")
    as_of = [entry["as_of"] for entry in c3["changes"]]
    assert c3 == {
        "tenant_id": tenant,
        "sku": "C-3",
        "since": None,
        "changes": [
            {
                "run_id": second,
                "as_of": as_of[0],
                "change": "changed",
                "price": None,
                "quantity": {"old": 1, "new": 4},
            },
            {
                "run_id": third,
                "as_of": as_of[1],
                "change": "changed",
                "price": None,
                "quantity": {"old": 4, "new": 3},
            },
        ],
    }
    since = as_of[1].replace("+", "%2B")
    later = await _history(system, viewer, tenant, "C-3", f"?since={since}")
    assert (later["since"], later["changes"]) == (as_of[1], c3["changes"][1:])
    b2 = await _history(system, viewer, tenant, "B-2")
    assert b2["changes"] == [
        {
            "run_id": second,
            "as_of": as_of[0],
            "change": "removed",
            "price": {"old": "24.00", "new": None},
            "quantity": {"old": 2, "new": None},
        }
    ]
    changes = {
        sku: [(e["run_id"], e["change"], e["price"], e["quantity"]) for e in found["changes"]]
        for sku in ("A-1", "D-4")
        for found in [await _history(system, viewer, tenant, sku)]
    }
    assert changes == {
        "A-1": [(second, "changed", {"old": "12.00", "new": "13.20"}, None)],
        "D-4": [(second, "added", {"old": None, "new": "1.20"}, {"old": None, "new": 0})],
    }
    assert (await _history(system, viewer, tenant, "Z-9"))["changes"] == []


async def test_history_refuses_a_bad_since_and_other_tenants(
    system: Gateway, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await _tenant(system, tenant)
    stranger = await _tenant(system, f"u-{unique_id}")
    bad = await system.client.get(
        f"/v1/tenants/{tenant}/skus/A-1/history?since=yesterday", headers=auth(owner)
    )
    assert bad.status == 422
    assert (await bad.json())["error"]["details"]["problems"] == [
        {"path": "since", "message": "must be an ISO-8601 date, or a time with its zone"}
    ]
    naive = await system.client.get(
        f"/v1/tenants/{tenant}/skus/A-1/history?since=2026-01-01T00:00:00", headers=auth(owner)
    )
    assert naive.status == 422
    foreign = await system.client.get(
        f"/v1/tenants/{tenant}/skus/A-1/history", headers=auth(stranger)
    )
    assert foreign.status == 404


async def test_delta_mode_writes_changed_rows_and_full_snapshots(
    system: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await _tenant(system, tenant, mode="delta", full_every=2)
    runs = [await _run(system, tenant, owner, feed) for feed in (FEED_1, FEED_2, FEED_3)]
    requested = await _run(system, tenant, owner, FEED_1, full=True)

    full_1 = b"sku,quantity_available,price,vendor_id\nA-1,5,12.00,v1\nB-2,2,24.00,v1\n"
    full_1 += b"C-3,1,6.00,v1\n"
    full_2 = b"sku,quantity_available,price,vendor_id\nA-1,5,13.20,v1\nC-3,4,6.00,v1\n"
    full_2 += b"D-4,0,1.20,v1\n"
    # the first run has no previous one: a full snapshot
    assert await _output(object_store, tenant, runs[0], "merged_inventory.csv") == full_1
    assert not await object_store.exists(keys.output_key(tenant, runs[0], "full_inventory.csv"))
    # the second: only what changed, removed SKUs marked; the full feed beside it
    assert await _output(object_store, tenant, runs[1], "merged_inventory.csv") == (
        b"sku,quantity_available,price,vendor_id,change\n"
        b"A-1,5,13.20,v1,changed\nB-2,,,,removed\nC-3,4,6.00,v1,changed\nD-4,0,1.20,v1,added\n"
    )
    assert await _output(object_store, tenant, runs[1], "full_inventory.csv") == full_2
    merged = await _merged_event(system, runs[1])
    assert merged["merged_key"] == keys.output_key(tenant, runs[1], "full_inventory.csv")
    assert merged["changes"]["delta"] is True
    # the third: one delta since the last snapshot and full_every 2, so a full snapshot
    assert await _output(object_store, tenant, runs[2], "merged_inventory.csv") == (
        b"sku,quantity_available,price,vendor_id\nA-1,5,13.20,v1\nC-3,3,6.00,v1\nD-4,0,1.20,v1\n"
    )
    assert await _output(object_store, tenant, runs[2], "changes.csv") == (
        b"sku,column,old,new\nC-3,quantity_available,4,3\n"
    )
    # the fourth would be a delta, but the run asked for a full snapshot
    assert await _output(object_store, tenant, requested, "merged_inventory.csv") == full_1
    assert not await object_store.exists(keys.output_key(tenant, requested, "full_inventory.csv"))


async def test_a_failed_run_is_skipped_when_looking_for_the_previous_one(
    system: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await _tenant(system, tenant)
    await _run(system, tenant, owner, FEED_1)
    failed = await _run(system, tenant, owner, b"SKU,QTY,COST\nA-1,ten,1.00\n", "FAILED")
    latest = await _run(system, tenant, owner, FEED_3)
    assert not await object_store.exists(keys.output_key(tenant, failed, "changes.csv"))
    assert await _output(object_store, tenant, latest, "changes.csv") == (
        b"sku,column,old,new\n"
        b"A-1,price,12.00,13.20\n"
        b"B-2,sku,B-2,\nB-2,quantity_available,2,\nB-2,price,24.00,\nB-2,vendor_id,v1,\n"
        b"C-3,quantity_available,1,3\n"
        b"D-4,sku,,D-4\nD-4,quantity_available,,0\nD-4,price,,1.20\nD-4,vendor_id,,v1\n"
    )


OLD_ROW = (
    "INSERT INTO {table} (tenant_id, sku, {run}, as_of, change, price_new)"
    " VALUES ($1, $2, $3, $4, 'added', 100)"
)


async def test_history_rows_older_than_400_days_are_purged_on_each_write(
    system: Gateway, isolated_bus: StackEndpoints, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await _tenant(system, tenant)
    now = datetime.now(UTC)
    tables = {"pricing.sku_changes": "scope_id", "gateway.sku_history": "run_id"}
    conn = await asyncpg.connect(isolated_bus.database_url)
    try:
        for table, run in tables.items():
            for sku, days in (("OLD", 401), ("KEPT", 399)):
                insert = OLD_ROW.format(table=table, run=run)
                await conn.execute(insert, tenant, sku, f"r-{sku}", now - timedelta(days=days))
        await _run(system, tenant, owner, FEED_1)
        run_id = await _run(system, tenant, owner, FEED_2)
        for table, run in tables.items():
            rows = await conn.fetch(
                f"SELECT sku, {run} AS run, change, price_old, price_new, quantity_old,"
                f" quantity_new FROM {table} WHERE tenant_id = $1 ORDER BY sku",
                tenant,
            )
            assert [tuple(row) for row in rows] == [
                ("A-1", run_id, "changed", 1200, 1320, None, None),
                ("B-2", run_id, "removed", 2400, None, 2, None),
                ("C-3", run_id, "changed", None, None, 1, 4),
                ("D-4", run_id, "added", None, 120, None, 0),
                ("KEPT", "r-KEPT", "added", None, 100, None, None),
            ], table
    finally:
        await conn.close()


async def test_output_mode_is_validated_with_its_path(system: Gateway, unique_id: str) -> None:
    tenant = f"t-{unique_id}"
    owner = await create_tenant(system, tenant)
    config = _config(tenant, mode="sometimes", full_every=0)
    response = await system.client.put(
        f"/v1/tenants/{tenant}/config", json=config, headers=auth(owner)
    )
    assert response.status == 422
    problems = (await response.json())["error"]["details"]["problems"]
    assert [problem["path"] for problem in problems] == ["output.mode", "output.full_every"]
