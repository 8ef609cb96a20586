"""Config history (who activated each version, and how) and restoring an earlier version."""

from __future__ import annotations

from datetime import datetime

import pytest

from relay_shared.config_store import TenantConfigStore
from relay_shared.storage import ObjectStore
from tests.gateway.harness import (
    Gateway,
    api_key,
    auth,
    create_tenant,
    feed_config,
    key_id_of,
)

pytestmark = pytest.mark.stack


def _without_times(versions: list[dict[str, object]]) -> list[dict[str, object]]:
    for version in versions:
        datetime.fromisoformat(str(version.pop("created_at")))  # an ISO time, present
    return versions


async def test_a_restored_version_is_current_again_as_a_new_version(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    config_url = f"/v1/tenants/{tenant_id}/config"
    for vendors in (("acme", "globex"), ("acme",)):
        put = await gateway.client.put(
            config_url, json=feed_config(tenant_id, vendors=vendors), headers=auth(owner)
        )
        assert put.status == 201, await put.text()

    restored = await gateway.client.post(
        f"{config_url}/restore", json={"version": 1}, headers=auth(owner)
    )

    assert restored.status == 201, await restored.text()
    assert await restored.json() == {"tenant_id": tenant_id, "config_version": 3}
    current = await gateway.client.get(config_url, headers=auth(owner))
    assert await current.json() == {"config_version": 3, "config": feed_config(tenant_id)}
    loaded = await TenantConfigStore(object_store).load(tenant_id, 3)
    assert [vendor.vendor_id for vendor in loaded.vendors] == ["acme", "globex"]
    history = await gateway.client.get(f"{config_url}/versions", headers=auth(owner))
    owner_id = await key_id_of(gateway, owner)
    assert _without_times((await history.json())["versions"]) == [
        {
            "config_version": number,
            "created_by": owner_id,
            "current": number == 3,
            "restored_from": 1 if number == 3 else None,
            "preview_id": None,
            "forced": False,
        }
        for number in (3, 2, 1)
    ]


async def test_restore_refuses_unknown_versions_and_non_owners(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    operator = await api_key(gateway, tenant_id, owner, "operator")
    config_url = f"/v1/tenants/{tenant_id}/config"
    await gateway.client.put(config_url, json=feed_config(tenant_id), headers=auth(owner))

    unknown = await gateway.client.post(
        f"{config_url}/restore", json={"version": 7}, headers=auth(owner)
    )
    not_owner = await gateway.client.post(
        f"{config_url}/restore", json={"version": 1}, headers=auth(operator)
    )
    bad_body = await gateway.client.post(
        f"{config_url}/restore", json={"version": 0}, headers=auth(owner)
    )

    assert (unknown.status, (await unknown.json())["error"]["code"]) == (404, "no_config")
    assert not_owner.status == 403
    assert bad_body.status == 422
    history = await gateway.client.get(f"{config_url}/versions", headers=auth(operator))
    assert [v["config_version"] for v in (await history.json())["versions"]] == [1]
