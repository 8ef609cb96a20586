"""The gateway test harness: a running gateway, tenants, configs and JetStream reads."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
import nats
from aiohttp import web
from aiohttp.test_utils import TestClient
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError as JsNotFoundError

from relay_gateway.app import GatewayApp
from relay_shared.events import Event
from tests.support.jetstream import nats_client
from tests.support.jetstream import stream_events as read_stream_events
from tests.support.polling import eventually_async

ADMIN_KEY = "rk_test_bootstrap_admin_key"
SECRET_KEY = "test-secret-key-for-jwt-signing-32bytes!"
WEBHOOK_SECRETS = ("old-webhook-secret", "new-webhook-secret")
STREAM = "RELAY"
T = TypeVar("T")


@dataclass
class Gateway:
    client: TestClient[web.Request, web.Application]
    app: GatewayApp
    nats_url: str


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


ADMIN = auth(ADMIN_KEY)


def feed_config(tenant_id: str, vendors: tuple[str, ...] = ("acme", "globex")) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "vendors": [
            {
                "vendor_id": vendor,
                "parser": {
                    "format": "csv",
                    "column_map": {"sku": "SKU", "quantity_available": "Qty"},
                },
            }
            for vendor in vendors
        ],
        "pricing": {"base_margin_pct": 0.25},
    }


async def create_tenant(
    gateway: Gateway, tenant_id: str, channels: tuple[str, ...] = ("amazon", "ebay")
) -> str:
    """The tenant's owner key."""
    response = await gateway.client.post(
        "/v1/tenants",
        json={"tenant_id": tenant_id, "name": f"Tenant {tenant_id}", "channels": list(channels)},
        headers=ADMIN,
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    key: str = body["api_key"]
    return key


async def put_config(gateway: Gateway, tenant_id: str, owner_key: str) -> int:
    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=feed_config(tenant_id), headers=auth(owner_key)
    )
    assert response.status == 201, await response.text()
    version: int = (await response.json())["config_version"]
    return version


async def api_key(gateway: Gateway, tenant_id: str, owner_key: str, *roles: str) -> str:
    response = await gateway.client.post(
        f"/v1/tenants/{tenant_id}/api-keys", json={"roles": list(roles)}, headers=auth(owner_key)
    )
    assert response.status == 201, await response.text()
    key: str = (await response.json())["api_key"]
    return key


async def key_id_of(gateway: Gateway, key: str) -> str:
    """The id of an owner ``key``, as the tokens it mints name it (``kid``)."""
    response = await gateway.client.post(
        "/v1/auth/token", json={"sub": "probe", "roles": ["viewer"]}, headers=auth(key)
    )
    assert response.status == 200, await response.text()
    token = (await response.json())["token"]
    kid: str = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])["kid"]
    return kid


async def eventually(probe: Callable[[], Awaitable[T | None]], deadline_s: float = 20.0) -> T:
    """Poll ``probe`` until it returns a value (a deadline, not a fixed sleep)."""
    return await eventually_async(probe, timeout=deadline_s)


class Watch:
    """Messages of one subject published after the watch began."""

    def __init__(self, subscription: Any) -> None:
        self._sub = subscription
        self._buffer: list[tuple[dict[str, Any], dict[str, str]]] = []

    async def next_matching(
        self, predicate: Callable[[dict[str, Any]], bool], deadline_s: float = 15.0
    ) -> tuple[dict[str, Any], dict[str, str]]:
        deadline = time.monotonic() + deadline_s
        while True:
            while self._buffer:
                body, headers = self._buffer.pop(0)
                if predicate(body):
                    return body, headers
            if time.monotonic() > deadline:
                raise TimeoutError("no matching message")
            try:
                messages = await self._sub.fetch(10, timeout=0.5)
            except TimeoutError:
                continue
            self._buffer.extend((json.loads(m.data), dict(m.headers or {})) for m in messages)

    async def none_matching(
        self, predicate: Callable[[dict[str, Any]], bool], deadline_s: float = 1.0
    ) -> None:
        try:
            body, _ = await self.next_matching(predicate, deadline_s)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {body}")


@asynccontextmanager
async def watch(nats_url: str, subject: str) -> AsyncIterator[Watch]:
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.NEW,
            ack_policy=AckPolicy.NONE,
            filter_subject=subject,
            inactive_threshold=60.0,
        )
        subscription = await js.pull_subscribe(subject, durable=None, stream=STREAM, config=config)
        yield Watch(subscription)
        with suppress(JsNotFoundError):
            await subscription.unsubscribe()
    finally:
        await client.close()


async def publish(nats_url: str, event: Event, *, msg_id: str | None = None) -> None:
    """Publish like the services do (``Nats-Msg-Id`` = event id, unless ``msg_id`` is given)."""
    client = await nats.connect(nats_url)
    try:
        await client.jetstream().publish(
            event.subject,
            event.model_dump_json().encode(),
            stream=STREAM,
            headers={"Nats-Msg-Id": msg_id or event.event_id},
        )
    finally:
        await client.close()


async def stream_events(nats_url: str, subject: str) -> list[dict[str, Any]]:
    """Every message of ``subject`` the stream holds now."""
    async with nats_client(nats_url) as client:
        return await read_stream_events(client, STREAM, subject)
