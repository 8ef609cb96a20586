"""Runs: request (idempotent, outbox), list, the concurrency cap, artifacts. Tracking a
run through the pipeline is in test_gateway_run_tracking.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from relay_shared import keys, subjects
from relay_shared.events import (
    RunFailed,
    stage_event_id,
)
from relay_shared.storage import ObjectStore
from tests.gateway.harness import (
    Gateway,
    api_key,
    auth,
    create_tenant,
    publish,
    put_config,
    watch,
)

pytestmark = pytest.mark.stack


async def _tenant(gateway: Gateway, tenant_id: str) -> str:
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    return owner


async def _run(gateway: Gateway, key: str, body: dict[str, Any], **headers: str) -> Any:
    return await gateway.client.post("/v1/runs", json=body, headers={**auth(key), **headers})


async def test_a_run_is_stored_then_requested_on_the_bus(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await _tenant(gateway, tenant_id)
    operator = await api_key(gateway, tenant_id, owner, "operator")
    body = {"tenant_id": tenant_id, "run_type": "inventory_sync", "vendors": ["acme"]}

    async with watch(gateway.nats_url, subjects.RUN_REQUESTED) as requested:
        response = await _run(gateway, operator, body, **{"X-Correlation-ID": f"c-{unique_id}"})
        accepted = await response.json()
        event, headers = await requested.next_matching(lambda e: e["tenant_id"] == tenant_id)

    assert response.status == 202
    assert accepted == {"run_id": accepted["run_id"], "status": "QUEUED", "config_version": 1}
    assert event == {
        "schema_version": 1,
        "event_id": f"run.requested:{accepted['run_id']}",
        "occurred_at": event["occurred_at"],
        "tenant_id": tenant_id,
        "correlation_id": f"c-{unique_id}",
        "run_id": accepted["run_id"],
        "config_version": 1,
        "vendors": ["acme"],
        "force": False,
        "full": False,
        "preview": False,
    }
    assert headers["Nats-Msg-Id"] == event["event_id"]


async def test_no_config_is_409(gateway: Gateway, unique_id: str) -> None:
    owner = await create_tenant(gateway, f"t-{unique_id}")
    response = await _run(gateway, owner, {"tenant_id": f"t-{unique_id}"})

    assert response.status == 409
    assert (await response.json())["error"]["code"] == "no_config"


async def test_unknown_vendors_and_roles_are_refused(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await _tenant(gateway, tenant_id)
    viewer = await api_key(gateway, tenant_id, owner, "viewer")
    other = await create_tenant(gateway, f"o-{unique_id}")

    unknown = await _run(gateway, owner, {"tenant_id": tenant_id, "vendors": ["acme", "initech"]})
    forbidden = await _run(gateway, viewer, {"tenant_id": tenant_id})
    hidden = await _run(gateway, other, {"tenant_id": tenant_id})

    assert unknown.status == 422
    assert (await unknown.json())["error"]["details"]["problems"] == [
        {"path": "vendors[1]", "message": "unknown vendor 'initech'"}
    ]
    assert (forbidden.status, hidden.status) == (403, 404)


async def test_an_idempotency_key_replays_or_conflicts(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await _tenant(gateway, tenant_id)
    body = {"tenant_id": tenant_id, "force": True}

    first = await _run(gateway, owner, body, **{"Idempotency-Key": "k-1"})
    replay = await _run(
        gateway, owner, {"force": True, "tenant_id": tenant_id}, **{"Idempotency-Key": "k-1"}
    )
    conflict = await _run(gateway, owner, {"tenant_id": tenant_id}, **{"Idempotency-Key": "k-1"})
    other_key = await _run(gateway, owner, body, **{"Idempotency-Key": "k-2"})

    assert (first.status, replay.status, conflict.status, other_key.status) == (202, 202, 409, 202)
    assert await replay.json() == await first.json()
    assert (await conflict.json())["error"]["code"] == "idempotency_conflict"
    assert (await other_key.json())["run_id"] != (await first.json())["run_id"]
    listed = await gateway.client.get("/v1/runs", headers=auth(owner))
    assert len((await listed.json())["runs"]) == 2


async def test_runs_are_listed_newest_first_with_a_cursor(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await _tenant(gateway, tenant_id)
    made = [(await (await _run(gateway, owner, {})).json())["run_id"] for _ in range(5)]

    first = await (await gateway.client.get("/v1/runs?limit=2", headers=auth(owner))).json()
    second = await (
        await gateway.client.get(
            f"/v1/runs?limit=2&cursor={first['next_cursor']}", headers=auth(owner)
        )
    ).json()
    third = await (
        await gateway.client.get(
            f"/v1/runs?limit=2&cursor={second['next_cursor']}", headers=auth(owner)
        )
    ).json()

    pages = [[run["run_id"] for run in page["runs"]] for page in (first, second, third)]
    assert pages == [made[4:2:-1], made[2:0:-1], made[0:1]]
    assert third["next_cursor"] is None


async def test_run_list_parameters_are_checked(gateway: Gateway, unique_id: str) -> None:
    owner = await _tenant(gateway, f"t-{unique_id}")
    statuses = [
        (await gateway.client.get(f"/v1/runs?{query}", headers=auth(owner))).status
        for query in ("limit=0", "limit=x", "status=DONE", "cursor=!!!", f"tenant_id=z-{unique_id}")
    ]
    admin_without_tenant = await gateway.client.get(
        "/v1/runs", headers=auth("rk_test_bootstrap_admin_key")
    )

    assert statuses == [422, 422, 422, 400, 404]
    assert admin_without_tenant.status == 422


async def test_runs_beyond_the_cap_wait_queued(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await _tenant(gateway, tenant_id)
    async with watch(gateway.nats_url, subjects.RUN_REQUESTED) as requested:
        runs = [(await (await _run(gateway, owner, {})).json())["run_id"] for _ in range(3)]
        mine = lambda e: e["tenant_id"] == tenant_id  # noqa: E731
        first = [(await requested.next_matching(mine))[0]["run_id"] for _ in range(2)]
        await requested.none_matching(mine, deadline_s=1.5)
        await publish(
            gateway.nats_url,
            RunFailed(
                event_id=stage_event_id(subjects.RUN_FAILED, runs[0]),
                occurred_at=datetime.now(UTC),
                tenant_id=tenant_id,
                correlation_id="c",
                run_id=runs[0],
                stage="ingest",
                code="x",
                message="x",
            ),
        )
        third, _ = await requested.next_matching(mine)

    assert first == runs[:2]
    assert third["run_id"] == runs[2]


async def test_artifacts_are_presigned(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await _tenant(gateway, tenant_id)
    run_id = (await (await _run(gateway, owner, {})).json())["run_id"]
    await object_store.put_bytes(
        keys.output_key(tenant_id, run_id, "merged_inventory.csv"), b"sku\n"
    )
    await object_store.put_bytes(keys.report_key(tenant_id, run_id, "run_summary.json"), b"{}")
    other = await create_tenant(gateway, f"o-{unique_id}")

    response = await gateway.client.get(f"/v1/runs/{run_id}/artifacts", headers=auth(owner))
    hidden = await gateway.client.get(f"/v1/runs/{run_id}/artifacts", headers=auth(other))

    body = await response.json()
    assert [(a["name"], a["key"], a["size"]) for a in body["artifacts"]] == [
        ("merged_inventory.csv", keys.output_key(tenant_id, run_id, "merged_inventory.csv"), 4),
        ("run_summary.json", keys.report_key(tenant_id, run_id, "run_summary.json"), 2),
    ]
    expires = datetime.fromisoformat(body["artifacts"][0]["expires_at"])
    assert 0 < (expires - datetime.now(UTC)).total_seconds() <= 900
    async with aiohttp.ClientSession() as session, session.get(body["artifacts"][0]["url"]) as got:
        assert await got.read() == b"sku\n"
    assert hidden.status == 404
