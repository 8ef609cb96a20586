"""ShipStation secrets are sealed at rest: in the gateway's database and in the config
version object other services read; ingest opens them with the same APP_SECRET_KEY."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relay_shared import keys
from relay_shared.config_store import TenantConfigStore
from relay_shared.secrets_box import SecretsBox, SecretsBoxError, is_sealed
from relay_shared.storage import ObjectStore
from tests.gateway.harness import SECRET_KEY, Gateway, auth, create_tenant, feed_config

pytestmark = pytest.mark.stack
SECRETS = {"webhook_token": "tok-plain-1", "api_key": "key-plain-2", "api_secret": "sec-plain-3"}


def _config(tenant_id: str, shipstation: dict[str, Any]) -> dict[str, Any]:
    return {
        **feed_config(tenant_id),
        "shipstation": {**shipstation, "store_channels": {"7": "ebay"}},
    }


async def _put(gateway: Gateway, tenant_id: str, owner: str, config: dict[str, Any]) -> Any:
    return await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner)
    )


async def test_secrets_are_sealed_in_the_database_and_the_bucket(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)

    assert (await _put(gateway, tenant_id, owner, _config(tenant_id, SECRETS))).status == 201
    pool = gateway.app.context.tenants._pool
    row = await pool.fetchval(
        "SELECT config::text FROM config_versions WHERE tenant_id = $1", tenant_id
    )
    stored = await object_store.get_bytes(keys.config_version_key(tenant_id, 1))
    loaded = await TenantConfigStore(object_store).load(tenant_id, 1)
    assert loaded.shipstation is not None
    section = loaded.shipstation.model_dump()
    box = SecretsBox(SECRET_KEY)

    for plaintext in SECRETS.values():
        assert plaintext not in row
        assert plaintext.encode() not in stored
    assert {name: is_sealed(section[name]) for name in SECRETS} == dict.fromkeys(SECRETS, True)
    assert {name: box.open(section[name]) for name in SECRETS} == SECRETS
    assert section["store_channels"] == {"7": "ebay"}
    with pytest.raises(SecretsBoxError):
        SecretsBox("another-key").open(section["api_key"])


async def test_a_redacted_secret_put_back_keeps_its_value(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    unknown = await _put(gateway, tenant_id, owner, _config(tenant_id, {"api_key": "***"}))
    await _put(gateway, tenant_id, owner, _config(tenant_id, SECRETS))
    shown = await (
        await gateway.client.get(f"/v1/tenants/{tenant_id}/config", headers=auth(owner))
    ).json()

    edited = {**shown["config"], "shipstation": {**shown["config"]["shipstation"], "api_key": "k2"}}
    again = await _put(gateway, tenant_id, owner, edited)
    loaded = await TenantConfigStore(object_store).load(tenant_id, 2)
    box = SecretsBox(SECRET_KEY)
    assert loaded.shipstation is not None
    section = loaded.shipstation.model_dump()

    assert unknown.status == 422
    assert (await unknown.json())["error"]["details"]["problems"] == [
        {"path": "shipstation.api_key", "message": "is *** but no earlier version holds a value"}
    ]
    assert again.status == 201
    assert {name: box.open(section[name]) for name in SECRETS} == {**SECRETS, "api_key": "k2"}
    assert json.dumps(shown).count("***") == 3
