"""The gateway side of channels: marketplace credentials sealed at PUT config and never shown
by GET config; plugin capabilities checked at PUT config (422 naming the path); the audit read
model behind ``GET /v1/tenants/{id}/channels/{channel}/actions`` (viewer, channel-scoped)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import ChannelActed
from relay_shared.secrets_box import SecretsBox, is_sealed
from relay_shared.storage import ObjectStore
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import (
    SECRET_KEY,
    Gateway,
    api_key,
    auth,
    create_tenant,
    eventually,
    feed_config,
    publish,
)
from tests.support.fake_marketplaces import AMAZON_CREDENTIALS, EBAY_CREDENTIALS

pytestmark = pytest.mark.stack
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def gateway(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with serving_gateway(stack, tmp_path_factory.mktemp("gateway")) as served:
        yield served


def _channels() -> dict[str, Any]:
    return {
        "amazon": {
            "insights": ["out_of_stock"],
            "actions": {"out_of_stock": "pause"},
            "account": {"seller_id": "S1", "marketplace_id": "ATVPDKIKX0DER"},
            "credentials": dict(AMAZON_CREDENTIALS),
            "dry_run": False,
        },
        "ebay": {"credentials": dict(EBAY_CREDENTIALS)},
    }


async def _put(gateway: Gateway, tenant: str, owner: str, channels: dict[str, Any]) -> Any:
    config = {**feed_config(tenant), "channels": channels}
    return await gateway.client.put(
        f"/v1/tenants/{tenant}/config", json=config, headers=auth(owner)
    )


async def test_marketplace_credentials_are_sealed_and_never_shown(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant, ("amazon", "ebay"))

    put = await _put(gateway, tenant, owner, _channels())
    shown = await (
        await gateway.client.get(f"/v1/tenants/{tenant}/config", headers=auth(owner))
    ).text()
    pool = gateway.app.context.tenants._pool
    row = await pool.fetchval(
        "SELECT config::text FROM config_versions WHERE tenant_id = $1", tenant
    )
    stored = await object_store.get_bytes(keys.config_version_key(tenant, 1))
    sections = await TenantConfigStore(object_store).load_channel_sections(tenant, 1)
    box = SecretsBox(SECRET_KEY)

    assert put.status == 201, await put.text()
    plaintexts = [*AMAZON_CREDENTIALS.values(), *EBAY_CREDENTIALS.values()]
    for plaintext in plaintexts:
        assert plaintext not in row
        assert plaintext.encode() not in stored
        assert plaintext not in shown
    for name, expected in (("amazon", AMAZON_CREDENTIALS), ("ebay", EBAY_CREDENTIALS)):
        sealed = sections.channels[name].credentials
        assert all(is_sealed(value) for value in sealed.values())
        assert box.open_all(sealed) == expected
    shown_channels = json.loads(shown)["config"]["channels"]
    assert shown_channels["amazon"]["credentials"] == dict.fromkeys(AMAZON_CREDENTIALS, "***")
    assert shown_channels["ebay"]["credentials"] == dict.fromkeys(EBAY_CREDENTIALS, "***")


async def test_a_plugin_that_cannot_do_what_is_configured_is_a_422_naming_the_path(
    gateway: Gateway, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant, ("amazon", "woot"))
    channels = {
        "woot": {"actions": {"out_of_stock": "delist"}},
        "shopify": {"plugin": "shopify-x"},
        "amazon": {"actions": {"out_of_stock": "pause"}, "dry_run": False},
    }

    response = await _put(gateway, tenant, owner, channels)

    assert response.status == 422
    problems = (await response.json())["error"]["details"]["problems"]
    assert [(p["path"], p["message"]) for p in problems] == [
        ("channels.woot.actions.out_of_stock", "plugin woot does not support delist"),
        (
            "channels.shopify.plugin",
            "no channel plugin is named 'shopify-x' (amazon, ebay, woot); name one with plugin:",
        ),
        ("channels.amazon.account.seller_id", "is required by plugin amazon"),
        ("channels.amazon.account.marketplace_id", "is required by plugin amazon"),
        ("channels.amazon.credentials.lwa_client_id", "is required when dry_run is false"),
        ("channels.amazon.credentials.lwa_client_secret", "is required when dry_run is false"),
        ("channels.amazon.credentials.refresh_token", "is required when dry_run is false"),
    ]


def _acted(tenant: str, number: int, channel: str, outcome: str) -> ChannelActed:
    action_id = f"{tenant}-a{number}"
    return ChannelActed(
        event_id=f"{subjects.CHANNEL_ACTED}:{action_id}",
        occurred_at=T0 + timedelta(minutes=number),
        tenant_id=tenant,
        correlation_id="c",
        action_id=action_id,
        insight_id=f"i{number}",
        channel=channel,
        sku=f"SKU-{number}",
        action="reprice",
        outcome=outcome,  # type: ignore[arg-type]
        dry_run=outcome == "dry_run",
        request={"method": "PATCH", "url": f"https://sp.example/{number}", "body": {"n": number}},
        answer=None if outcome == "dry_run" else "ok",
        duration_ms=number,
        price_after=Decimal("9.50") if outcome == "succeeded" else None,
    )


async def test_the_actions_of_a_channel_are_listed_newest_first_and_channel_scoped(
    gateway: Gateway, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant, ("amazon", "ebay"))
    for event in (
        _acted(tenant, 1, "amazon", "dry_run"),
        _acted(tenant, 2, "ebay", "failed"),
        _acted(tenant, 3, "amazon", "succeeded"),
    ):
        await publish(gateway.nats_url, event)
    await publish(gateway.nats_url, _acted(tenant, 3, "amazon", "succeeded"), msg_id="again")
    viewer = await api_key(gateway, tenant, owner, "viewer")
    path = f"/v1/tenants/{tenant}/channels/amazon/actions"

    async def both() -> dict[str, Any] | None:
        response = await gateway.client.get(path, headers=auth(viewer))
        body: dict[str, Any] = await response.json()
        return body if len(body.get("actions", [])) == 2 else None

    body = await eventually(both)
    token_body = {"sub": "u1", "roles": ["viewer"], "channels": ["ebay"]}
    token = (
        await (
            await gateway.client.post("/v1/auth/token", json=token_body, headers=auth(owner))
        ).json()
    )["token"]
    denied = await gateway.client.get(path, headers=auth(token))
    failed = await (
        await gateway.client.get(
            f"/v1/tenants/{tenant}/channels/ebay/actions?outcome=failed", headers=auth(token)
        )
    ).json()

    assert [(a["action_id"], a["outcome"], a["price_after"]) for a in body["actions"]] == [
        (f"{tenant}-a3", "succeeded", "9.50"),
        (f"{tenant}-a1", "dry_run", None),
    ]
    assert body["actions"][1]["request"] == {
        "method": "PATCH",
        "url": "https://sp.example/1",
        "body": {"n": 1},
    }
    assert denied.status == 403
    assert [a["action_id"] for a in failed["actions"]] == [f"{tenant}-a2"]
