"""Config previews and guarded activation through the real services (gateway, ingest,
normalize, pricing on real JetStream, Postgres and S3): the preview runs the engine on the
latest feeds, answers with its diff against the latest successful run, publishes nothing
downstream of ``offers.merged``, and guards the config's activation."""

from __future__ import annotations

from typing import Any

import pytest

from relay_shared import keys, subjects
from relay_shared.storage import ObjectStore
from tests.gateway.harness import Gateway, auth, create_tenant, eventually, stream_events
from tests.pipeline.test_change_history import COLUMNS, _output, _run

pytestmark = pytest.mark.stack

FEED = b"SKU,QTY,COST\nA-1,5,10.00\nB-2,2,20.00\nC-3,1,5.00\n"


def _config(tenant_id: str, margin: float) -> dict[str, Any]:
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
        "pricing": {"base_margin_pct": margin},
        "output": {"columns": COLUMNS},
        "guard": {"max_price_change_pct": 5},
    }


async def _preview(gateway: Gateway, tenant_id: str, owner: str, config: Any) -> dict[str, Any]:
    """Post a preview and wait until it ends; its answer."""
    posted = await gateway.client.post(
        f"/v1/tenants/{tenant_id}/config/preview", json=config, headers=auth(owner)
    )
    assert posted.status == 202, await posted.text()
    accepted = await posted.json()
    assert accepted["status"] == "QUEUED"
    url = f"/v1/tenants/{tenant_id}/previews/{accepted['preview_id']}"

    async def ended() -> dict[str, Any] | None:
        answer: dict[str, Any] = await (await gateway.client.get(url, headers=auth(owner))).json()
        return answer if answer["status"] in {"SUCCEEDED", "FAILED"} else None

    return await eventually(ended, deadline_s=60.0)


async def test_a_preview_diffs_without_publishing_and_guards_the_activation(
    system: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(system, tenant_id)
    config_url = f"/v1/tenants/{tenant_id}/config"
    put = await system.client.put(config_url, json=_config(tenant_id, 0.20), headers=auth(owner))
    assert put.status == 201, await put.text()
    first_run = await _run(system, tenant_id, owner, FEED)
    dearer = _config(tenant_id, 0.30)

    preview = await _preview(system, tenant_id, owner, dearer)

    preview_id = preview["preview_id"]
    assert preview["status"] == "SUCCEEDED"
    assert (preview["config_version"], preview["base_run_id"]) == (2, first_run)
    diff = preview["diff"]
    assert {k: diff[k] for k in ("rows_before", "rows_after", "added", "removed", "changed")} == {
        "rows_before": 3,
        "rows_after": 3,
        "added": 0,
        "removed": 0,
        "changed": 3,
    }
    assert diff["columns_changed"] == {"price": 3}
    assert diff["price_changes"] == {
        "count": 3,
        "cents": {"min": 50, "p50": 100, "p95": 200, "max": 200},
        "pct": {"min": 8.3333, "p50": 8.3333, "p95": 8.3333, "max": 8.3333},
    }
    assert [(c["sku"], c["change_cents"]) for c in diff["largest"]] == [
        ("B-2", 200),
        ("A-1", 100),
        ("C-3", 50),
    ]
    assert preview["diff_csv_key"] == keys.report_key(tenant_id, preview_id, "preview_diff.csv")
    assert await object_store.get_bytes(preview["diff_csv_key"]) == (
        b"sku,column,old,new\nA-1,price,12.00,13.00\nB-2,price,24.00,26.00\nC-3,price,6.00,6.50\n"
    )
    merged = [e["run_id"] for e in await stream_events(system.nats_url, subjects.OFFERS_MERGED)]
    ready = await stream_events(system.nats_url, subjects.PREVIEW_READY)
    assert (first_run in merged, preview_id in merged) == (True, False)
    assert [e["run_id"] for e in ready if e["tenant_id"] == tenant_id] == [preview_id]
    current = await system.client.get(config_url, headers=auth(owner))
    assert (await current.json())["config_version"] == 1
    never_active = await system.client.post(
        f"{config_url}/restore", json={"version": 2}, headers=auth(owner)
    )
    assert (never_active.status, (await never_active.json())["error"]["code"]) == (
        404,
        "no_config",
    )

    guarded = await system.client.put(
        f"{config_url}?require_preview={preview_id}", json=dearer, headers=auth(owner)
    )
    assert guarded.status == 409
    assert (await guarded.json())["error"]["details"]["breaches"] == [
        {"limit": "max_price_change_pct", "allowed": "5", "actual": "8.33"}
    ]
    other = await system.client.put(
        f"{config_url}?require_preview={preview_id}&force=true",
        json=_config(tenant_id, 0.25),
        headers=auth(owner),
    )
    assert (other.status, (await other.json())["error"]["code"]) == (
        409,
        "preview_config_differs",
    )
    forced = await system.client.put(
        f"{config_url}?require_preview={preview_id}&force=true", json=dearer, headers=auth(owner)
    )
    assert (forced.status, (await forced.json())["config_version"]) == (201, 3)
    history = await system.client.get(f"{config_url}/versions", headers=auth(owner))
    assert [
        (v["config_version"], v["preview_id"], v["forced"], v["current"])
        for v in (await history.json())["versions"]
    ] == [(3, preview_id, True, True), (1, None, False, False)]

    second_run = await _run(system, tenant_id, owner, FEED)
    assert await _output(object_store, tenant_id, second_run, "changes.csv") == (
        b"sku,column,old,new\nA-1,price,12.00,13.00\nB-2,price,24.00,26.00\nC-3,price,6.00,6.50\n"
    )


async def test_previews_refuse_invalid_configs_and_other_tenants(
    system: Gateway, unique_id: str
) -> None:
    tenant_id, stranger_id = f"t-{unique_id}", f"s-{unique_id}"
    owner = await create_tenant(system, tenant_id)
    stranger = await create_tenant(system, stranger_id)
    await system.client.put(
        f"/v1/tenants/{tenant_id}/config", json=_config(tenant_id, 0.2), headers=auth(owner)
    )
    bad = _config(tenant_id, 0.2)
    bad["pricing"]["base_margin_pct"] = "lots"

    refused = await system.client.post(
        f"/v1/tenants/{tenant_id}/config/preview", json=bad, headers=auth(owner)
    )

    assert refused.status == 422
    problems = (await refused.json())["error"]["details"]["problems"]
    assert [p["path"] for p in problems] == ["pricing.base_margin_pct"]
    runs = await system.client.get(f"/v1/runs?tenant_id={tenant_id}", headers=auth(owner))
    assert (await runs.json())["runs"] == []
    preview = await _preview(system, tenant_id, owner, _config(tenant_id, 0.2))
    foreign = await system.client.get(
        f"/v1/tenants/{stranger_id}/previews/{preview['preview_id']}", headers=auth(stranger)
    )
    unknown = await system.client.get(
        f"/v1/tenants/{tenant_id}/previews/run_0000", headers=auth(owner)
    )
    assert (foreign.status, unknown.status) == (404, 404)
    assert preview["status"] == "FAILED"
    assert preview["error"]["code"] == "missing_feed"
