"""The ShipStation webhook: checks in the spec's order, durable publish, no PII."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relay_gateway.domain.signatures import sign
from relay_shared import subjects
from tests.gateway.harness import WEBHOOK_SECRETS, Gateway, auth, create_tenant, feed_config, watch

pytestmark = pytest.mark.stack
URL = "/v1/webhooks/shipstation"
PII = ("Jane Customer", "jane@example.com", "+1-555-0100", "1 Main St")


def _payload(tenant_id: str, event_id: str, *, at: datetime | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "order.shipped",
        "timestamp": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "tenant_id": tenant_id,
        "order": {
            "order_id": "A-1001",
            "channel": "amazon",
            "status": "shipped",
            "ordered_at": "2026-11-20T09:00:00Z",
            "shipped_at": "2026-11-22T09:55:00Z",
            "items": [{"sku": "SKU-1", "quantity": 2, "name": "Widget"}],
            "customer": {"name": PII[0], "email": PII[1], "phone": PII[2], "address": PII[3]},
        },
    }


def _signed(body: bytes, secret: str = WEBHOOK_SECRETS[0]) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-ShipStation-Signature": sign(secret, body)}


async def _post(gateway: Gateway, body: bytes, headers: dict[str, str], query: str = "") -> Any:
    return await gateway.client.post(URL + query, data=body, headers=headers)


async def test_a_signed_order_is_published_without_pii(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id)
    payload = _payload(tenant_id, "evt_01")
    body = json.dumps(payload).encode()

    async with watch(gateway.nats_url, subjects.ORDER_SHIPPED) as shipped:
        response = await _post(
            gateway, body, {**_signed(body), "X-Correlation-ID": f"c-{unique_id}"}
        )
        event, headers = await shipped.next_matching(lambda e: e["tenant_id"] == tenant_id)
        again = await _post(gateway, body, _signed(body))
        await shipped.none_matching(lambda e: e["tenant_id"] == tenant_id, deadline_s=1.0)

    assert response.status == 202
    assert await response.json() == {"status": "accepted", "event_id": "evt_01"}
    assert event == {
        "schema_version": 1,
        "event_id": f"order.shipped:webhook:{tenant_id}:evt_01",
        "occurred_at": payload["timestamp"],
        "tenant_id": tenant_id,
        "correlation_id": f"c-{unique_id}",
        "order_id": "A-1001",
        "channel": "amazon",
        "status": "shipped",
        "ordered_at": "2026-11-20T09:00:00Z",
        "shipped_at": "2026-11-22T09:55:00Z",
        "items": [{"sku": "SKU-1", "quantity": 2}],
        "source": "webhook",
    }
    assert headers["Nats-Msg-Id"] == event["event_id"]
    assert (again.status, await again.json()) == (
        200,
        {"status": "duplicate", "event_id": "evt_01"},
    )


async def test_pii_never_reaches_the_bus_or_the_database(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id)
    body = json.dumps(_payload(tenant_id, "evt_pii")).encode()

    async with watch(gateway.nats_url, subjects.ORDER_SHIPPED) as shipped:
        assert (await _post(gateway, body, _signed(body))).status == 202
        event, _ = await shipped.next_matching(lambda e: e["tenant_id"] == tenant_id)

    pool = gateway.app.context.tenants._pool
    stored = await pool.fetch("SELECT * FROM webhook_receipts WHERE tenant_id = $1", tenant_id)
    text = json.dumps(event) + repr([dict(row) for row in stored])
    assert [word for word in PII if word.lower() in text.lower()] == []
    assert "Widget" not in text


async def test_every_configured_secret_verifies(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id)
    statuses = []
    for index, secret in enumerate(WEBHOOK_SECRETS):
        body = json.dumps(_payload(tenant_id, f"evt_{index}")).encode()
        statuses.append((await _post(gateway, body, _signed(body, secret))).status)

    assert statuses == [202, 202]


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 256):
        yield b" " * 256


async def test_checks_run_in_the_spec_order(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id)
    big = b"{" + b" " * 2000 + b"}"
    good = json.dumps(_payload(tenant_id, "evt_o")).encode()
    stale = json.dumps(
        _payload(tenant_id, "e", at=datetime.now(UTC) - timedelta(minutes=6))
    ).encode()
    ahead = json.dumps(
        _payload(tenant_id, "e", at=datetime.now(UTC) + timedelta(minutes=6))
    ).encode()
    missing = json.dumps({"event_id": "e", "tenant_id": tenant_id}).encode()
    bad_time = good.replace(b'"timestamp": "', b'"timestamp": "x')
    unknown = json.dumps(_payload(f"zz-{unique_id}", "e")).encode()
    text_plain = {**_signed(good), "Content-Type": "text/plain"}

    cases = {
        "too_large_declared": await _post(gateway, big, {"Content-Type": "text/plain"}),
        "too_large_streamed": await _post(gateway, _chunks(4096), _signed(b"")),  # type: ignore[arg-type]
        "not_json": await _post(gateway, good, text_plain),
        "no_signature": await _post(gateway, good, {"Content-Type": "application/json"}),
        "bad_signature": await _post(gateway, good, _signed(good, "not-a-secret")),
        "malformed": await _post(gateway, b"{nope", _signed(b"{nope")),
        "missing_fields": await _post(gateway, missing, _signed(missing)),
        "bad_timestamp": await _post(gateway, bad_time, _signed(bad_time)),
        "stale": await _post(gateway, stale, _signed(stale)),
        "ahead": await _post(gateway, ahead, _signed(ahead)),
        "unknown_tenant": await _post(gateway, unknown, _signed(unknown)),
    }

    statuses = {name: response.status for name, response in cases.items()}
    assert statuses == {
        "too_large_declared": 413,
        "too_large_streamed": 413,
        "not_json": 415,
        "no_signature": 401,
        "bad_signature": 401,
        "malformed": 400,
        "missing_fields": 400,
        "bad_timestamp": 400,
        "stale": 401,
        "ahead": 401,
        "unknown_tenant": 404,
    }
    assert (await cases["stale"].json())["error"]["code"] == "stale_timestamp"


async def test_the_rate_limit_is_per_tenant(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id)
    limiter = gateway.app.context.rate_limiter
    now = datetime.now(UTC)

    allowed = [await limiter.allow(tenant_id, now) for _ in range(101)]
    other = await limiter.allow(f"o-{unique_id}", now)
    almost = await limiter.allow(tenant_id, now + timedelta(microseconds=999_999))
    a_second_later = await limiter.allow(tenant_id, now + timedelta(seconds=1))

    assert allowed == [True] * 100 + [False]
    assert (other, almost, a_second_later) == (True, False, True)


async def test_a_refusal_names_the_wait(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id)
    limiter = gateway.app.context.rate_limiter
    for _ in range(100):
        assert await limiter.allow(tenant_id, datetime.now(UTC))
    body = json.dumps(_payload(tenant_id, "evt_over")).encode()

    response = await _post(gateway, body, _signed(body))

    assert response.status == 429
    assert (await response.json())["error"]["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "1"


async def test_an_order_for_a_channel_the_tenant_lacks_is_refused_unpublished(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id, channels=("amazon",))
    foreign = _payload(tenant_id, "evt_woot")
    foreign["order"]["channel"] = "woot"
    traversal = _payload(tenant_id, "evt_dots")
    traversal["order"]["channel"] = "../../other"
    good = json.dumps(_payload(tenant_id, "evt_good")).encode()

    async with watch(gateway.nats_url, subjects.ORDER_SHIPPED) as shipped:
        refused = []
        for payload in (foreign, traversal):
            body = json.dumps(payload).encode()
            refused.append(await _post(gateway, body, _signed(body)))
        accepted = await _post(gateway, good, _signed(good))
        first, _ = await shipped.next_matching(lambda e: e["tenant_id"] == tenant_id)

    assert [r.status for r in refused] == [422, 422]
    assert (await refused[0].json())["error"] == {
        "code": "unknown_channel",
        "message": "the order's channel is not one of the tenant's channels",
        "details": {
            "problems": [
                {"path": "order.channel", "message": "is not one of the tenant's channels"}
            ]
        },
    }
    assert accepted.status == 202
    assert first["event_id"] == f"order.shipped:webhook:{tenant_id}:evt_good"


def _with(payload: dict[str, Any], path: str, value: Any) -> bytes:
    target = payload
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return json.dumps(payload).encode()


async def test_hostile_values_in_a_signed_payload_are_400s(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id)
    bodies = {
        "nul_tenant": _with(_payload(tenant_id, "e1"), "tenant_id", f"{tenant_id}\x00"),
        "unicode_tenant": _with(_payload(tenant_id, "e2"), "tenant_id", "t٠"),
        "newline_event_id": _with(_payload(tenant_id, "e3"), "event_id", "e\r\nX-Evil: 1"),
        "nul_sku": _with(_payload(tenant_id, "e4"), "order.items.0.sku", "SKU\x00"),
        "nul_channel": _with(_payload(tenant_id, "e5"), "order.channel", "amazon\x00"),
        "nul_order_id": _with(_payload(tenant_id, "e6"), "order.order_id", "\x00"),
        "deep": b"[" * 1020,
    }
    bodies["lone_surrogate"] = (
        json.dumps(_payload(tenant_id, "e7")).encode().replace(b'"A-1001"', b'"\\ud800"')
    )

    statuses = {}
    for name, body in bodies.items():
        response = await _post(gateway, body, _signed(body))
        statuses[name] = (response.status, (await response.json())["error"]["code"])

    assert statuses == {name: (400, "malformed_payload") for name in bodies}


async def test_undecodable_credentials_are_401s(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    config = feed_config(tenant_id)
    config["shipstation"] = {"webhook_token": "tok-123", "api_key": "k", "api_secret": "s"}
    await gateway.client.put(f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner))
    good = json.dumps(_payload(tenant_id, "evt_sig")).encode()
    notice = json.dumps(
        {"resource_url": "https://ssapi.shipstation.com/x", "resource_type": "SHIP_NOTIFY"}
    ).encode()
    json_type = {"Content-Type": "application/json"}

    answers = {
        "latin1_signature": await _post(
            gateway, good, {**json_type, "X-ShipStation-Signature": "sha256=\xe9\xff"}
        ),
        "unicode_token": await _post(
            gateway, notice, json_type, f"?tenant={tenant_id}&token=t%C3%A9"
        ),
        "undecodable_token": await _post(
            gateway, notice, json_type, f"?tenant={tenant_id}&token=%FF%FE"
        ),
    }

    codes = {name: (r.status, (await r.json())["error"]["code"]) for name, r in answers.items()}
    assert codes == {
        "latin1_signature": (401, "invalid_signature"),
        "unicode_token": (401, "invalid_token"),
        "undecodable_token": (401, "invalid_token"),
    }


async def test_a_v1_notification_is_published_for_ingest(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    config = feed_config(tenant_id)
    config["shipstation"] = {"webhook_token": "tok-123", "api_key": "k", "api_secret": "s"}
    await gateway.client.put(f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner))
    resource = "https://ssapi.shipstation.com/shipments?batchId=42"
    body = json.dumps({"resource_url": resource, "resource_type": "SHIP_NOTIFY"}).encode()
    json_type = {"Content-Type": "application/json"}

    async with watch(gateway.nats_url, subjects.SHIPSTATION_NOTIFIED) as notified:
        response = await _post(gateway, body, json_type, f"?tenant={tenant_id}&token=tok-123")
        event, _ = await notified.next_matching(lambda e: e["tenant_id"] == tenant_id)
    wrong_token = await _post(gateway, body, json_type, f"?tenant={tenant_id}&token=nope")
    bad_host = json.dumps(
        {"resource_url": "https://evil.example.com/x", "resource_type": "SHIP_NOTIFY"}
    )
    refused = await _post(
        gateway, bad_host.encode(), json_type, f"?tenant={tenant_id}&token=tok-123"
    )
    userinfo = json.dumps(
        {"resource_url": "https://u:p@ssapi.shipstation.com/x", "resource_type": "S"}
    )
    creds = await _post(gateway, userinfo.encode(), json_type, f"?tenant={tenant_id}&token=tok-123")

    assert response.status == 202
    assert (event["resource_url"], event["resource_type"]) == (resource, "SHIP_NOTIFY")
    assert event["event_id"].startswith(f"shipstation.notified:{tenant_id}:")
    assert (wrong_token.status, refused.status, creds.status) == (401, 400, 400)


async def test_resource_urls_need_ascii_digit_hosts_and_port_443(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    config = feed_config(tenant_id)
    config["shipstation"] = {"webhook_token": "tok-9", "api_key": "k", "api_secret": "s"}
    await gateway.client.put(f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner))
    query = f"?tenant={tenant_id}&token=tok-9"
    json_type = {"Content-Type": "application/json"}

    async def notify(url: str) -> tuple[int, str | None]:
        body = json.dumps({"resource_url": url, "resource_type": "SHIP_NOTIFY"}).encode()
        response = await _post(gateway, body, json_type, query)
        answer = await response.json()
        return response.status, answer.get("error", {}).get("code")

    async with watch(gateway.nats_url, subjects.SHIPSTATION_NOTIFIED) as notified:
        answers = {
            url: await notify(url)
            for url in (
                "https://ssapi١٢٣.shipstation.com/shipments?batchId=1",
                "https://ssapi.shipstation.com:8443/shipments?batchId=1",
                "https://ssapi.shipstation.com:443/shipments?batchId=1",
            )
        }
        event, _ = await notified.next_matching(lambda e: e["tenant_id"] == tenant_id)

    assert answers == {
        "https://ssapi١٢٣.shipstation.com/shipments?batchId=1": (400, "malformed_payload"),
        "https://ssapi.shipstation.com:8443/shipments?batchId=1": (400, "malformed_payload"),
        "https://ssapi.shipstation.com:443/shipments?batchId=1": (202, None),
    }
    assert event["resource_url"] == "https://ssapi.shipstation.com:443/shipments?batchId=1"
