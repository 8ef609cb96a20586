"""Recorded order lines (order.recorded) and the reallocation list (reallocation.changed):
the gateway's read models, channel-scoped like insights."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from relay_shared import subjects
from relay_shared.events import OrderRecorded, ReallocationChanged, RecordedLine
from tests.gateway.harness import Gateway, auth, create_tenant, eventually, publish

pytestmark = pytest.mark.stack
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _order(tenant_id: str, order_id: str, channel: str, minutes: int, *lines: RecordedLine) -> Any:
    return OrderRecorded(
        event_id=f"{subjects.ORDER_RECORDED}:{tenant_id}:{order_id}",
        occurred_at=T0 + timedelta(minutes=minutes),
        tenant_id=tenant_id,
        correlation_id="c",
        order_id=order_id,
        channel=channel,
        shipped_at=T0 + timedelta(minutes=minutes),
        lines=list(lines),
    )


def _entry(
    tenant_id: str, entry: str, state: str, minutes: int, target: str | None = "ebay", **more: Any
) -> ReallocationChanged:
    return ReallocationChanged(
        event_id=f"{subjects.REALLOCATION_CHANGED}:{tenant_id}:{entry}:{state}:{minutes}",
        occurred_at=T0 + timedelta(minutes=minutes),
        tenant_id=tenant_id,
        correlation_id="c",
        entry_id=entry,
        origin=more.pop("origin", "amazon"),
        target=target,
        sku=f"SKU-{entry}",
        quantity=more.pop("quantity", 4),
        reason=more.pop("reason", "slow_mover"),
        state=state,
        claimed_by=more.pop("claimed_by", None),
    )


async def _get(gateway: Gateway, key: str, path: str) -> tuple[int, Any]:
    response = await gateway.client.get(path, headers=auth(key))
    return response.status, await response.json()


async def _token(gateway: Gateway, owner: str, channels: list[str]) -> str:
    body = {"sub": "user-1", "roles": ["viewer"], "channels": channels}
    response = await gateway.client.post("/v1/auth/token", json=body, headers=auth(owner))
    token: str = (await response.json())["token"]
    return token


async def test_unknown_sku_lines_are_listed(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    known, unknown = (
        RecordedLine(sku="MUG-1", quantity=2),
        RecordedLine(sku="GHOST", quantity=1, problem="unknown_sku"),
    )
    first = _order(tenant_id, "o-1", "amazon", 1, known, unknown)
    for event in (
        first,
        first.model_copy(update={"event_id": f"again:{tenant_id}"}),
        _order(
            tenant_id, "o-2", "ebay", 2, RecordedLine(sku="X", quantity=3, problem="unknown_sku")
        ),
        _order(tenant_id, "o-3", "ebay", 3, RecordedLine(sku="MUG-1", quantity=1)),
    ):
        await publish(gateway.nats_url, event)
    base = f"/v1/tenants/{tenant_id}/orders"

    async def all_seen() -> Any:
        status, body = await _get(gateway, owner, base)
        return body if status == 200 and len(body["lines"]) == 4 else None

    everything = await eventually(all_seen)
    _, problems = await _get(gateway, owner, f"{base}?problem=unknown_sku")
    _, page = await _get(gateway, owner, f"{base}?problem=unknown_sku&limit=1")
    _, rest = await _get(gateway, owner, f"{base}?problem=unknown_sku&cursor={page['next_cursor']}")
    amazon_user = await _token(gateway, owner, ["amazon"])
    _, scoped = await _get(gateway, amazon_user, f"{base}?problem=unknown_sku")
    denied, _ = await _get(gateway, amazon_user, f"{base}?channel=ebay")
    bad, _ = await _get(gateway, owner, f"{base}?problem=late")

    assert [line["order_id"] for line in everything["lines"]] == ["o-3", "o-2", "o-1", "o-1"]
    assert problems == {
        "tenant_id": tenant_id,
        "lines": [
            {
                "order_id": "o-2",
                "sku": "X",
                "channel": "ebay",
                "quantity": 3,
                "shipped_at": "2026-11-02T09:02:00Z",
                "problem": "unknown_sku",
            },
            {
                "order_id": "o-1",
                "sku": "GHOST",
                "channel": "amazon",
                "quantity": 1,
                "shipped_at": "2026-11-02T09:01:00Z",
                "problem": "unknown_sku",
            },
        ],
        "next_cursor": None,
    }
    assert ([x["sku"] for x in page["lines"]], [x["sku"] for x in rest["lines"]]) == (
        ["X"],
        ["GHOST"],
    )
    assert [line["sku"] for line in scoped["lines"]] == ["GHOST"]
    assert (denied, bad) == (403, 422)


async def test_the_reallocation_list_follows_its_entries(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id, ("amazon", "ebay", "woot"))
    events = [
        _entry(tenant_id, "e1", "open", 1),
        _entry(tenant_id, "e1", "claimed", 5, claimed_by="ebay"),
        _entry(tenant_id, "e1", "open", 6),  # late repeat of an older state: ignored
        _entry(tenant_id, "e2", "open", 2, target=None, origin="woot", reason="pushed"),
        _entry(tenant_id, "e3", "open", 3, origin="woot", target="amazon"),
        _entry(tenant_id, "e3", "withdrawn", 4, origin="woot", target="amazon"),
        _entry(tenant_id, "e4", "open", 7, origin="ebay", target="woot", quantity=9),
    ]
    for event in events:
        await publish(gateway.nats_url, event)
    path = f"/v1/tenants/{tenant_id}/reallocation"

    async def all_seen() -> Any:
        _, body = await _get(gateway, owner, f"{path}?state=open,claimed,done,withdrawn")
        states = {e["entry_id"]: e["state"] for e in body.get("entries", [])}
        return (
            body
            if states == {"e1": "claimed", "e2": "open", "e3": "withdrawn", "e4": "open"}
            else None
        )

    await eventually(all_seen)
    status, current = await _get(gateway, owner, path)
    woot_user = await _token(gateway, owner, ["woot"])
    _, woot = await _get(gateway, woot_user, path)
    bad, _ = await _get(gateway, owner, f"{path}?state=gone")

    assert status == 200
    assert current["entries"] == [
        {
            "entry_id": "e4",
            "origin": "ebay",
            "target": "woot",
            "sku": "SKU-e4",
            "quantity": 9,
            "reason": "slow_mover",
            "state": "open",
            "claimed_by": None,
            "changed_at": "2026-11-02T09:07:00Z",
        },
        {
            "entry_id": "e1",
            "origin": "amazon",
            "target": "ebay",
            "sku": "SKU-e1",
            "quantity": 4,
            "reason": "slow_mover",
            "state": "claimed",
            "claimed_by": "ebay",
            "changed_at": "2026-11-02T09:05:00Z",
        },
        {
            "entry_id": "e2",
            "origin": "woot",
            "target": None,
            "sku": "SKU-e2",
            "quantity": 4,
            "reason": "pushed",
            "state": "open",
            "claimed_by": None,
            "changed_at": "2026-11-02T09:02:00Z",
        },
    ]
    assert [e["entry_id"] for e in woot["entries"]] == ["e4", "e2"]
    assert bad == 422


async def test_order_recorded_events_arriving_together_are_inserted_together(
    gateway: Gateway, unique_id: str
) -> None:
    """One statement for the events waiting together (one transaction id); an event whose
    batch fails is then inserted alone, and fails alone."""
    tenant_id = f"t-{unique_id}"
    orders = gateway.app.context.orders
    pool = gateway.app.context.tenants._pool
    together = [
        _order(tenant_id, f"O-{n}", "ebay", n, RecordedLine(sku=f"S-{n}", quantity=n))
        for n in range(1, 4)
    ]
    too_large = _order(tenant_id, "O-9", "ebay", 9, RecordedLine(sku="S-9", quantity=3_000_000_000))

    await asyncio.gather(*(orders.record(e) for e in together))
    outcomes = await asyncio.gather(
        orders.record(_order(tenant_id, "O-4", "ebay", 4, RecordedLine(sku="S-4", quantity=4))),
        orders.record(too_large),
        orders.record(together[0]),  # a redelivery: its line is left as it is
        return_exceptions=True,
    )

    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], asyncpg.DataError)
    rows = await pool.fetch(
        "SELECT xmin::text AS tx, order_id, sku, quantity FROM recorded_order_lines"
        " WHERE tenant_id = $1 ORDER BY order_id",
        tenant_id,
    )
    assert [(r["order_id"], r["sku"], r["quantity"]) for r in rows] == [
        ("O-1", "S-1", 1),
        ("O-2", "S-2", 2),
        ("O-3", "S-3", 3),
        ("O-4", "S-4", 4),
    ]
    transactions = [r["tx"] for r in rows]
    assert len(set(transactions[:3])) == 1  # the three that waited together
    assert transactions[3] != transactions[0]  # O-4: alone, after its batch failed
