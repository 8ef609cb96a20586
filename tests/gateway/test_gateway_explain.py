"""``GET /v1/runs/{run_id}/skus/{sku}/explain``: the gateway reads the explain index pricing
stored for the run (written here by pricing's own adapter into the real S3)."""

from __future__ import annotations

import pytest

from relay_pricing.adapters.explain_index import write_explain_index
from relay_pricing.domain import build_run_outputs
from relay_shared import keys
from relay_shared.findings import Finding
from relay_shared.run_reports import ErrorsReport
from relay_shared.storage import ObjectStore
from tests.engine.engine_support import AS_OF, csv_feed, make_config, normalize, to_input, vendor
from tests.gateway.harness import Gateway, api_key, auth, create_tenant, put_config

pytestmark = pytest.mark.stack


async def _run_with_index(gateway: Gateway, store: ObjectStore, tenant_id: str) -> tuple[str, str]:
    """A tenant, a run of it, and that run's explain index (as pricing writes it)."""
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    viewer = await api_key(gateway, tenant_id, owner, "viewer")
    response = await gateway.client.post("/v1/runs", json={}, headers=auth(owner))
    run_id = (await response.json())["run_id"]
    config = make_config([vendor("v1"), vendor("v2")], tenant_id=tenant_id)
    feeds = {
        "v1": to_input(normalize(csv_feed("A,5,10.00,,,,,,,", "B,0,4.00,,,,,,,"), config)),
        "v2": to_input(normalize(csv_feed("A,2,9.00,,,,,,,"), config, vendor_id="v2")),
    }
    outputs = build_run_outputs(
        config, run_id=run_id, as_of=AS_OF, config_version=1, feeds=feeds, timings_ms={}
    )
    await write_explain_index(store, tenant_id, run_id, outputs)
    return run_id, viewer


async def test_a_viewer_gets_the_offers_the_decision_and_each_step(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    run_id, viewer = await _run_with_index(gateway, object_store, tenant_id)

    response = await gateway.client.get(f"/v1/runs/{run_id}/skus/A/explain", headers=auth(viewer))
    body = await response.json()

    assert response.status == 200
    assert (body["run_id"], body["tenant_id"], body["sku"], body["status"]) == (
        run_id,
        tenant_id,
        "A",
        "merged",
    )
    assert [(o["vendor_id"], o["landed_cents"], o["winner"]) for o in body["offers"]] == [
        ("v1", 1000, False),
        ("v2", 900, True),
    ]
    assert body["merge"]["decided_by"] == "lowest_landed_cost"
    assert body["merge"]["reason"] == "first on lowest_landed_cost: 900 against v1=1000"
    assert [(s["step"], s["input_cents"], s["output_cents"]) for s in body["steps"]] == [
        ("shipping", 900, 900),
        ("base_margin", 900, 1080),
        ("min_price", 1080, 1080),
        ("rounding", 1080, 1080),
        ("map_floor", 1080, 1080),
    ]
    assert body["price_cents"] == 1080


async def test_another_tenants_run_and_unknown_skus_are_404(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    run_id, viewer = await _run_with_index(gateway, object_store, tenant_id)
    other = await create_tenant(gateway, f"o-{unique_id}")
    finding = Finding("v1", 4, "sku", "mangled_sku", "the SKU looks mangled", "1.2E+07")
    await object_store.put_bytes(
        keys.report_key(tenant_id, run_id, "errors.json"),
        ErrorsReport(errors=[finding], warnings=[]).to_json_bytes(),
        content_type="application/json",
    )

    foreign = await gateway.client.get(f"/v1/runs/{run_id}/skus/A/explain", headers=auth(other))
    absent = await gateway.client.get(f"/v1/runs/{run_id}/skus/Z/explain", headers=auth(viewer))
    rejected = await gateway.client.get(
        f"/v1/runs/{run_id}/skus/1.2E+07/explain", headers=auth(viewer)
    )

    assert foreign.status == 404
    assert (await foreign.json())["error"]["code"] == "not_found"
    assert absent.status == 404
    assert (await absent.json())["error"] == {
        "code": "sku_never_present",
        "message": "SKU Z is in no vendor's offers of this run",
        "details": {
            "sku": "Z",
            "status": "never_present",
            "message": "SKU Z is in no vendor's offers of this run",
            "findings": [],
        },
    }
    assert rejected.status == 404
    error = (await rejected.json())["error"]
    assert (error["code"], error["details"]["findings"]) == (
        "sku_rejected",
        [
            {
                "vendor_id": "v1",
                "row": 4,
                "column": "sku",
                "code": "mangled_sku",
                "message": "the SKU looks mangled",
                "value": "1.2E+07",
            }
        ],
    )


async def test_a_run_without_an_index_is_404(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    _, viewer = await _run_with_index(gateway, object_store, tenant_id)
    owner = await create_tenant(gateway, f"n-{unique_id}")
    await put_config(gateway, f"n-{unique_id}", owner)
    fresh = (await (await gateway.client.post("/v1/runs", json={}, headers=auth(owner))).json())[
        "run_id"
    ]

    response = await gateway.client.get(f"/v1/runs/{fresh}/skus/A/explain", headers=auth(owner))
    unknown = await gateway.client.get(
        f"/v1/runs/nope-{unique_id}/skus/A/explain", headers=auth(viewer)
    )

    assert response.status == 404
    assert (await response.json())["error"]["code"] == "no_explain_index"
    assert unknown.status == 404
    assert (await unknown.json())["error"]["code"] == "not_found"
