"""Hostile ShipStation webhook traffic against the whole system (every service its own
process): each case gets its exact refusal, nothing of it is published, and afterwards the
system still serves another tenant.

- resource_url hosts with non-ASCII digits and ports other than 443 (400);
- a burst straddling a wall-clock second boundary: 100 of a second, not 100 per second (429);
- an order for a channel the tenant does not have (422 ``unknown_channel``), never published;
- NUL bytes, non-ASCII and undecodable bytes in the query, headers and payload (4xx, no 5xx);
- an inbound key in S3 leading out of the tenant's prefix: the run fails ``foreign_key``, in
  the same words whether or not something exists where it leads.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient, sign
from relay_shared import keys, subjects
from relay_shared.storage import ObjectStore
from tests.gateway.harness import feed_config
from tests.support.jetstream import nats_client, next_event, stream_events
from tests.support.live_system import LiveSystem

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
URL = "/v1/webhooks/shipstation"
STREAM = "RELAY"
LIMIT = 100
ATTEMPTS = 3


@dataclass(frozen=True)
class Answer:
    status: int
    code: str | None
    body: Any
    headers: dict[str, str]


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _order(tenant_id: str, event_id: str, channel: str = "amazon") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "order.shipped",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "tenant_id": tenant_id,
        "order": {
            "order_id": f"O-{event_id}",
            "channel": channel,
            "status": "shipped",
            "shipped_at": "2026-11-22T09:55:00Z",
            "items": [{"sku": "SKU-1", "quantity": 1}],
        },
    }


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as opened:
        yield opened


async def _post(
    session: aiohttp.ClientSession,
    system: LiveSystem,
    body: bytes,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    signed: bool = True,
) -> Answer:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if signed:
        sent.setdefault("X-ShipStation-Signature", sign(body, system.webhook_secret))
    async with session.post(system.gateway_url + URL + query, data=body, headers=sent) as r:
        text = await r.text()
        parsed = json.loads(text) if text else None
        code = parsed.get("error", {}).get("code") if isinstance(parsed, dict) else None
        return Answer(r.status, code, parsed, dict(r.headers))


async def _signed(
    session: aiohttp.ClientSession, system: LiveSystem, payload: dict[str, Any]
) -> Answer:
    return await _post(session, system, json.dumps(payload).encode())


async def _tenant(admin: GatewayClient, channels: list[str], token: str | None = None) -> str:
    tenant_id = _id("sec")
    await admin.create_tenant(tenant_id, "Hostile", channels)
    if token is not None:
        config = feed_config(tenant_id)
        config["shipstation"] = {"webhook_token": token, "api_key": "k", "api_secret": "s"}
        await admin.request(
            "PUT", f"/v1/tenants/{tenant_id}/config", json_body=config, expect=(201,)
        )
    return tenant_id


async def _still_serves(
    session: aiohttp.ClientSession, system: LiveSystem, admin: GatewayClient
) -> None:
    """A fresh tenant's valid signed order is accepted and lands in JetStream."""
    tenant_id = await _tenant(admin, ["amazon"])
    answer = await _signed(session, system, _order(tenant_id, "evt-alive"))
    async with nats_client(system.endpoints.nats_url) as client:
        event = await next_event(
            client,
            STREAM,
            subjects.ORDER_SHIPPED,
            where=lambda e: e["tenant_id"] == tenant_id,
            timeout=30.0,
        )
    assert (answer.status, answer.body) == (202, {"status": "accepted", "event_id": "evt-alive"})
    assert event["event_id"] == f"order.shipped:webhook:{tenant_id}:evt-alive"


# --- resource_url host and port ----------------------------------------------------------


async def test_resource_url_hosts_need_ascii_digits_and_port_443(
    live_system: LiveSystem, admin: GatewayClient, session: aiohttp.ClientSession
) -> None:
    tenant_id = await _tenant(admin, ["amazon"], token="tok-hosts")
    query = f"?tenant={tenant_id}&token=tok-hosts"
    urls = [
        "https://ssapi١٢٣.shipstation.com/shipments?batchId=1",  # Arabic-Indic digits
        "https://ssapi%D9%A1.shipstation.com/shipments?batchId=1",
        "https://ssapi.shipstation.com:8443/shipments?batchId=1",
        "https://ssapi.shipstation.com:80/shipments?batchId=1",
        "https://ssapi.shipstation.com:443@evil.example/shipments",
        "https://ssapi.shipstation.com\\@evil.example/shipments",
        "https://ssapi.shipstation.com.evil.example/shipments",
    ]

    answers = {}
    for url in urls:
        body = json.dumps({"resource_url": url, "resource_type": "SHIP_NOTIFY"}).encode()
        answer = await _post(session, live_system, body, query=query, signed=False)
        answers[url] = (answer.status, answer.code)

    assert answers == {url: (400, "malformed_payload") for url in urls}
    await _still_serves(session, live_system, admin)


# --- the sliding window ------------------------------------------------------------------


async def _straddle(
    session: aiohttp.ClientSession, system: LiveSystem, tenant_id: str, count: int
) -> list[tuple[Answer, float]] | None:
    """``count`` events, one a millisecond, centred on a wall-clock second boundary
    (computed, not guessed). None when answering took a second or more from the first send
    (then not every pair of events lies within one window)."""
    boundary = int(time.time() + 0.2) + 1
    starts_at = boundary - count / 2000
    await asyncio.sleep(starts_at - time.time())  # align to the computed instant

    async def send(index: int) -> tuple[Answer, float]:
        answer = await _signed(session, system, _order(tenant_id, f"evt-{index}"))
        return answer, time.time()

    tasks = []
    for index in range(count):
        await asyncio.sleep(max(0.0, starts_at + index / 1000 - time.time()))
        tasks.append(asyncio.ensure_future(send(index)))
    answers = list(await asyncio.gather(*tasks))
    if max(done for _, done in answers) - starts_at >= 1.0:
        return None
    return answers


async def test_a_burst_straddling_a_second_boundary_gets_one_windows_worth(
    live_system: LiveSystem, admin: GatewayClient, session: aiohttp.ClientSession
) -> None:
    """150 events over 150 ms across a second boundary: a per-second window let all of them
    through (75 in each second); the sliding window admits 100 and refuses 50."""
    answers = None
    for _ in range(ATTEMPTS):
        tenant_id = await _tenant(admin, ["amazon"])
        answers = await _straddle(session, live_system, tenant_id, 150)
        if answers is not None:
            break
    assert answers is not None, "no attempt was answered within one second"
    accepted = [a for a, _ in answers if a.status == 202]
    refused = [a for a, _ in answers if a.status != 202]
    async with nats_client(live_system.endpoints.nats_url) as client:
        shipped = [
            e
            for e in await stream_events(client, STREAM, subjects.ORDER_SHIPPED)
            if e["tenant_id"] == tenant_id
        ]

    assert (len(accepted), len(refused)) == (LIMIT, 150 - LIMIT)
    assert {(a.status, a.code, a.headers.get("Retry-After")) for a in refused} == {
        (429, "rate_limited", "1")
    }
    assert len(shipped) == LIMIT
    await _still_serves(session, live_system, admin)


# --- channels ----------------------------------------------------------------------------


async def test_an_order_for_a_channel_the_tenant_lacks_is_refused_and_never_published(
    live_system: LiveSystem, admin: GatewayClient, session: aiohttp.ClientSession
) -> None:
    tenant_id = await _tenant(admin, ["amazon"])
    hostile = {"evt-woot": "woot", "evt-dots": "../../other", "evt-case": "Amazon"}

    refusals = {
        event_id: await _signed(session, live_system, _order(tenant_id, event_id, channel))
        for event_id, channel in hostile.items()
    }
    good = await _signed(session, live_system, _order(tenant_id, "evt-good"))
    async with nats_client(live_system.endpoints.nats_url) as client:
        # published before it was answered, so the refused ones would be in the stream first
        await next_event(
            client,
            STREAM,
            subjects.ORDER_SHIPPED,
            where=lambda e: e["tenant_id"] == tenant_id,
            timeout=30.0,
        )
        shipped = [
            e["event_id"]
            for e in await stream_events(client, STREAM, subjects.ORDER_SHIPPED)
            if e["tenant_id"] == tenant_id
        ]

    assert {event_id: (a.status, a.code) for event_id, a in refusals.items()} == {
        event_id: (422, "unknown_channel") for event_id in hostile
    }
    assert refusals["evt-woot"].body["error"]["details"] == {
        "problems": [{"path": "order.channel", "message": "is not one of the tenant's channels"}]
    }
    assert good.status == 202
    assert shipped == [f"order.shipped:webhook:{tenant_id}:evt-good"]
    await _still_serves(session, live_system, admin)


# --- NUL, non-ASCII and undecodable input ------------------------------------------------


async def test_hostile_query_values_are_4xx_never_5xx(
    live_system: LiveSystem, admin: GatewayClient, session: aiohttp.ClientSession
) -> None:
    tenant_id = await _tenant(admin, ["amazon"], token="tok-query")
    notice = json.dumps(
        {"resource_url": "https://ssapi.shipstation.com/x", "resource_type": "SHIP_NOTIFY"}
    ).encode()
    queries = {
        "?tenant=%00&token=tok-query": (400, "malformed_request"),
        f"?tenant={tenant_id}%00&token=tok-query": (400, "malformed_request"),
        "?tenant=t%C3%A9&token=tok-query": (422, "invalid_content"),
        "?tenant=..%2F..%2Fx&token=tok-query": (422, "invalid_content"),
        "?tenant=%FF%FE&token=tok-query": (422, "invalid_content"),
        f"?tenant={tenant_id}&token=%00": (400, "malformed_request"),
        f"?tenant={tenant_id}&token=tok-query%00": (400, "malformed_request"),
        f"?tenant={tenant_id}&token=t%C3%A9": (401, "invalid_token"),
        f"?tenant={tenant_id}&token=%FF%FE": (401, "invalid_token"),
        f"?tenant={tenant_id}&token=%ED%A0%80": (401, "invalid_token"),
        f"?tenant={tenant_id}": (401, "invalid_token"),
    }

    answers = {}
    for query in queries:
        answer = await _post(session, live_system, notice, query=query, signed=False)
        answers[query] = (answer.status, answer.code)

    assert answers == queries
    assert (await _post(session, live_system, b"{}", query="?tenant=t%C3%A9", signed=False)).body[
        "error"
    ]["details"]["problems"][0]["path"] == "tenant"
    await _still_serves(session, live_system, admin)


async def test_hostile_payload_values_are_400s(
    live_system: LiveSystem, admin: GatewayClient, session: aiohttp.ClientSession
) -> None:
    tenant_id = await _tenant(admin, ["amazon"])

    def order(**changes: Any) -> dict[str, Any]:
        payload = _order(tenant_id, "evt-bad")
        for path, value in changes.items():
            target = payload
            *parents, last = path.split("__")
            for part in parents:
                target = target[part]
            target[last] = value
        return payload

    payloads = {
        "nul_tenant": order(tenant_id="\x00"),
        "non_ascii_tenant": order(tenant_id="t١"),
        "crlf_event_id": order(event_id="e\r\nNats-Msg-Id: x"),
        "nul_channel": order(order__channel="amazon\x00"),
        "nul_order_id": order(order__order_id="O\x00"),
    }
    answers = {name: await _signed(session, live_system, p) for name, p in payloads.items()}
    surrogate = json.dumps(order()).encode().replace(b'"O-evt-bad"', b'"\\ud800"')
    answers["lone_surrogate"] = await _post(session, live_system, surrogate)
    answers["deep_nesting"] = await _post(session, live_system, b"[" * 1020)

    assert {name: (a.status, a.code) for name, a in answers.items()} == {
        name: (400, "malformed_payload") for name in answers
    }
    await _still_serves(session, live_system, admin)


async def _raw_post(system: LiveSystem, head: bytes, body: bytes) -> int:
    """POST with header bytes no client library would send; the status answered."""
    where = urlsplit(system.gateway_url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        writer.write(
            b"POST " + URL.encode() + b" HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n"
            + head
            + b"\r\n"
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


async def test_undecodable_signature_bytes_are_refused(
    live_system: LiveSystem, admin: GatewayClient, session: aiohttp.ClientSession
) -> None:
    tenant_id = await _tenant(admin, ["amazon"])
    body = json.dumps(_order(tenant_id, "evt-raw")).encode()

    statuses = [
        await _raw_post(live_system, b"X-ShipStation-Signature: sha256=\xff\xfe\r\n", body),
        await _raw_post(live_system, b"X-ShipStation-Signature: sha256=\xc3\xa9\r\n", body),
    ]

    assert statuses == [401, 401]
    await _still_serves(session, live_system, admin)


# --- ingest reads only under the tenant's prefix -----------------------------------------


async def test_an_inbound_key_leading_out_of_the_tenant_fails_the_run_alike(
    live_system: LiveSystem,
    admin: GatewayClient,
    session: aiohttp.ClientSession,
    object_store: ObjectStore,
) -> None:
    """A key planted in the tenant's inbound prefix that leads (``..``) to another tenant's
    upload, or to nothing: the run fails ``foreign_key`` in the same words either way."""
    victim = await _tenant(admin, ["amazon"])
    at = datetime(2026, 1, 1, tzinfo=UTC)
    upload = "20260101T000000-0001"
    await object_store.put_bytes(keys.inbound_key(victim, "acme", at, upload, "csv"), b"SKU,Qty\n")
    errors = {}
    for name, target in (("exists", victim), ("absent", _id("nobody"))):
        tenant_id = await _tenant(admin, ["amazon"], token="tok-keys")
        escape = (
            "../../../" + keys.inbound_key(target, "acme", at, upload, "csv")[len("tenants/") :]
        )
        await object_store.put_bytes(keys.inbound_prefix(tenant_id, "acme") + escape, b"x\n")
        run = await admin.start_run(tenant_id)
        async with asyncio.timeout(60):
            finished = await admin.wait_for_run(run["run_id"])
        errors[name] = (finished["status"], finished["error"]["code"], finished["error"]["message"])

    message = "the inbound files of vendor 'acme' do not lie under the tenant's own prefix"
    assert errors == {
        "exists": ("FAILED", "foreign_key", message),
        "absent": ("FAILED", "foreign_key", message),
    }
    await _still_serves(session, live_system, admin)
