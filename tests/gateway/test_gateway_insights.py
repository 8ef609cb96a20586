"""Insights and the reallocation list: a read model fed by ``insight.generated``,
channel-scoped by the ``channels`` claim of a user token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relay_shared import subjects
from relay_shared.events import InsightGenerated
from tests.gateway.harness import Gateway, auth, create_tenant, eventually, publish

pytestmark = pytest.mark.stack
T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
MOVE = {
    "origin_channel": "amazon",
    "target_channel": "ebay",
    "reason": "slow_mover",
    "target_reason": "sold_recently",
    "quantity": 4,
}


def _event(
    tenant_id: str, name: str, channel: str, kind: str, status: str, minutes: int, **detail: Any
) -> InsightGenerated:
    return InsightGenerated(
        event_id=f"{subjects.INSIGHT_GENERATED}:{tenant_id}:{name}:{status}:{minutes}",
        occurred_at=T0 + timedelta(minutes=minutes),
        tenant_id=tenant_id,
        correlation_id="c",
        insight_id=f"{tenant_id}-{name}",
        channel=channel,
        sku=f"SKU-{name}",
        kind=kind,
        status=status,
        since=T0 + timedelta(minutes=minutes),
        detail=detail or {"quantity": 0},
    )


async def _get(gateway: Gateway, key: str, path: str) -> tuple[int, Any]:
    response = await gateway.client.get(path, headers=auth(key))
    return response.status, await response.json()


async def _token(gateway: Gateway, owner: str, channels: list[str]) -> str:
    body = {"sub": "user-1", "roles": ["viewer"], "channels": channels}
    response = await gateway.client.post("/v1/auth/token", json=body, headers=auth(owner))
    assert response.status == 200, await response.text()
    token: str = (await response.json())["token"]
    return token


async def _seed(gateway: Gateway, tenant_id: str, owner: str) -> None:
    events = [
        _event(tenant_id, "1", "amazon", "out_of_stock", "open", 1),
        _event(tenant_id, "2", "ebay", "slow_mover", "open", 2),
        _event(tenant_id, "3", "amazon", "reallocation_candidate", "open", 3, **MOVE),
        _event(tenant_id, "5", "ebay", "out_of_stock", "open", 4),
        _event(tenant_id, "5", "ebay", "out_of_stock", "resolved", 5),
        _event(tenant_id, "5", "ebay", "out_of_stock", "open", 4).model_copy(
            update={"event_id": f"late:{tenant_id}"}
        ),
        _event(tenant_id, "6", "woot", "aged", "open", 6),
    ]
    for event in events:
        await publish(gateway.nats_url, event)

    async def sentinel_seen() -> bool | None:
        status, body = await _get(gateway, owner, f"/v1/tenants/{tenant_id}/insights?kind=aged")
        return True if status == 200 and body["insights"] else None

    await eventually(sentinel_seen)


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["insight_id"].rsplit("-", 1)[1] for item in body["insights"]]


async def test_insights_are_listed_and_filtered(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await _seed(gateway, tenant_id, owner)
    base = f"/v1/tenants/{tenant_id}"

    _, everything = await _get(gateway, owner, f"{base}/insights")
    _, stock = await _get(gateway, owner, f"{base}/insights?kind=out_of_stock")
    _, ebay = await _get(gateway, owner, f"{base}/insights?channel=ebay")
    _, resolved = await _get(gateway, owner, f"{base}/insights?status=resolved")
    _, first = await _get(gateway, owner, f"{base}/insights?limit=2")
    _, second = await _get(gateway, owner, f"{base}/insights?limit=2&cursor={first['next_cursor']}")
    bad_kind, problems = await _get(gateway, owner, f"{base}/insights?kind=nope")

    assert _ids(everything) == ["6", "3", "2", "1"]
    assert everything["insights"][1] == {
        "insight_id": f"{tenant_id}-3",
        "channel": "amazon",
        "sku": "SKU-3",
        "kind": "reallocation_candidate",
        "status": "open",
        "since": "2026-11-01T06:03:00Z",
        "detail": MOVE,
    }
    assert (_ids(stock), _ids(ebay), _ids(resolved)) == (["1"], ["2"], ["5"])
    assert (_ids(first), _ids(second), second["next_cursor"]) == (["6", "3"], ["2", "1"], None)
    assert bad_kind == 422
    assert problems["error"]["details"]["problems"][0]["path"] == "kind"


async def test_a_channel_claim_limits_what_a_user_sees(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await _seed(gateway, tenant_id, owner)
    ebay_user = await _token(gateway, owner, ["ebay"])
    amazon_user = await _token(gateway, owner, ["amazon"])
    base = f"/v1/tenants/{tenant_id}"

    _, own = await _get(gateway, ebay_user, f"{base}/insights")
    other, denied = await _get(gateway, ebay_user, f"{base}/insights?channel=amazon")
    _, amazon = await _get(gateway, amazon_user, f"{base}/insights")
    foreign, _ = await _get(gateway, ebay_user, f"/v1/tenants/zz-{unique_id}/insights")

    assert _ids(own) == ["2"]
    assert (other, denied["error"]["code"]) == (403, "channel_not_allowed")
    assert foreign == 404
    assert _ids(amazon) == ["3", "1"]
