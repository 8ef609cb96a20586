"""``GET /v1/runs/{run_id}/skus/{sku}/explain`` gives each offer's row as read and tells a
SKU rejected on any column from an absent one (issue 16 item 3), from the indexes the
services store in the real S3: normalize's of each feed's rows as read (its own adapter,
under the run's scope) and pricing's of the offers. The same feeds through
``relay local-run --explain`` give the same answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relay_cli.explain import explain_sku
from relay_cli.local_run import execute
from relay_cli.local_run_args import LocalRun
from relay_normalize.adapters.source_index import write_source_index
from relay_normalize.domain import normalize_feed
from relay_pricing.adapters.explain_index import write_explain_index
from relay_shared import keys
from relay_shared.explain.source_format import source_manifest_key
from relay_shared.storage import ObjectStore
from tests.engine.engine_support import AS_OF, csv_feed, make_config, vendor
from tests.gateway.harness import Gateway, api_key, auth, create_tenant, put_config

pytestmark = pytest.mark.stack

FEEDS = {
    "v1": csv_feed(
        "A,5,10.00,,,,,Acme,Wrench,",
        "B,1,abc,,,,,,,",  # rejected on its cost
        "C,2,4.00,,,,,,,",
    ),
    "v2": csv_feed("A,2,9.00,12.00,,3,,,Wrench 2,", "A,7,1.00,,,,,,,"),  # A twice: the first kept
}


async def _run(
    gateway: Gateway,
    store: ObjectStore,
    tenant_id: str,
    folder: Path,
    indexed: tuple[str, ...] = ("v1", "v2"),
) -> tuple[LocalRun, Any, str, str]:
    """A tenant and a run of it; the feeds run by local-run, and the services' indexes of
    that run stored as normalize (for the ``indexed`` vendors) and pricing store them."""
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    viewer = await api_key(gateway, tenant_id, owner, "viewer")
    response = await gateway.client.post("/v1/runs", json={}, headers=auth(owner))
    run_id = (await response.json())["run_id"]
    config = make_config(
        [vendor("v1"), vendor("v2")],
        tenant_id=tenant_id,
        error_policy={"max_invalid_row_pct": "0.5"},
    )
    paths = {}
    for vendor_id, body in FEEDS.items():
        paths[vendor_id] = folder / f"{vendor_id}.csv"
        paths[vendor_id].write_bytes(body)
    run = LocalRun(config, paths, {}, folder / "out", AS_OF, run_id, explain="A")
    outputs = execute(run)
    assert outputs.explain is not None  # the run succeeded
    for vendor_id in indexed:
        path = paths[vendor_id]
        feed = normalize_feed(
            path, config=config, vendor_id=vendor_id, as_of=AS_OF, sku_map=None, with_source=True
        )
        assert feed.rows_as_read is not None
        await write_source_index(store, feed.rows_as_read, run_id)
    await write_explain_index(store, tenant_id, run_id, outputs)
    await store.put_bytes(
        keys.report_key(tenant_id, run_id, "errors.json"), outputs.files["errors.json"]
    )
    return run, outputs, run_id, viewer


async def test_each_offer_comes_with_its_row_as_read_as_local_run_gives_it(
    gateway: Gateway, object_store: ObjectStore, unique_id: str, tmp_path: Path
) -> None:
    tenant_id = f"t-{unique_id}"
    run, outputs, run_id, viewer = await _run(gateway, object_store, tenant_id, tmp_path)

    response = await gateway.client.get(f"/v1/runs/{run_id}/skus/A/explain", headers=auth(viewer))
    body = await response.json()

    assert response.status == 200, body
    assert [(o["vendor_id"], o["as_read"]) for o in body["offers"]] == [
        (
            "v1",
            {
                "row": 2,
                "cells": {
                    "SKU": "A",
                    "QTY": "5",
                    "COST": "10.00",
                    "MAP": "",
                    "MSRP": "",
                    "LEAD": "",
                    "COND": "",
                    "BRAND": "Acme",
                    "TITLE": "Wrench",
                    "UPDATED": "",
                },
            },
        ),
        (
            "v2",
            {
                "row": 2,
                "cells": {
                    "SKU": "A",
                    "QTY": "2",
                    "COST": "9.00",
                    "MAP": "12.00",
                    "MSRP": "",
                    "LEAD": "3",
                    "COND": "",
                    "BRAND": "",
                    "TITLE": "Wrench 2",
                    "UPDATED": "",
                },
            },
        ),
    ]
    assert body == explain_sku(run, outputs, "A").model_dump(mode="json")


async def test_a_sku_rejected_on_its_cost_is_404_rejected_with_its_finding(
    gateway: Gateway, object_store: ObjectStore, unique_id: str, tmp_path: Path
) -> None:
    tenant_id = f"t-{unique_id}"
    run, outputs, run_id, viewer = await _run(gateway, object_store, tenant_id, tmp_path)

    rejected = await gateway.client.get(f"/v1/runs/{run_id}/skus/B/explain", headers=auth(viewer))
    absent = await gateway.client.get(f"/v1/runs/{run_id}/skus/Z/explain", headers=auth(viewer))

    assert rejected.status == 404
    error = (await rejected.json())["error"]
    assert error == {
        "code": "sku_rejected",
        "message": "SKU B was rejected by normalize: invalid_money",
        "details": {
            "sku": "B",
            "status": "rejected",
            "message": "SKU B was rejected by normalize: invalid_money",
            "findings": [
                {
                    "vendor_id": "v1",
                    "row": 3,
                    "column": "cost",
                    "code": "invalid_money",
                    "message": "the amount is not a non-negative number",
                    "value": "abc",
                }
            ],
        },
    }
    assert error["details"] == explain_sku(run, outputs, "B").model_dump(mode="json")
    assert absent.status == 404
    assert (await absent.json())["error"]["code"] == "sku_never_present"
    assert explain_sku(run, outputs, "Z").status == "never_present"


async def test_a_vendor_without_an_index_of_its_rows_has_no_as_read(
    gateway: Gateway, object_store: ObjectStore, unique_id: str, tmp_path: Path
) -> None:
    """A run stored before normalize wrote the index (or whose index is gone): the answer
    still comes, without ``as_read`` for that vendor."""
    tenant_id = f"t-{unique_id}"
    _, _, run_id, viewer = await _run(gateway, object_store, tenant_id, tmp_path, ("v1",))
    assert not await object_store.exists(source_manifest_key(tenant_id, "v2", run_id))

    response = await gateway.client.get(f"/v1/runs/{run_id}/skus/A/explain", headers=auth(viewer))
    body = await response.json()

    assert response.status == 200
    assert [(o["vendor_id"], o["as_read"] is None) for o in body["offers"]] == [
        ("v1", False),
        ("v2", True),
    ]
