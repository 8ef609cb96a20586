"""Hostile input at this round's config routes (issue 16): a config preview gets the same
document guards as a config put and starts nothing when refused; guarded activation refuses
another tenant's preview, a preview that has not run and malformed query values; restore
refuses versions that name nothing. The gateway in-process, on the suite's real stack (no
pipeline services, so a preview stays QUEUED)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from relay_cli.stack import StackEndpoints
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import Gateway, api_key, auth, create_tenant, feed_config
from tests.security.test_gateway_hostile import billion_laughs

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def gateway(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with serving_gateway(stack, tmp_path_factory.mktemp("gateway")) as served:
        yield served


async def _error(response: object) -> tuple[int, str]:
    status: int = response.status  # type: ignore[attr-defined]
    body = await response.json()  # type: ignore[attr-defined]
    return status, body["error"]["code"]


async def test_a_bomb_preview_is_refused_and_starts_nothing(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    operator = await api_key(gateway, tenant_id, owner, "operator")
    url = f"/v1/tenants/{tenant_id}/config/preview"

    bomb = await gateway.client.post(
        url, data=billion_laughs(), headers={**auth(owner), "Content-Type": "application/yaml"}
    )
    not_owner = await gateway.client.post(url, json=feed_config(tenant_id), headers=auth(operator))

    assert (bomb.status, not_owner.status) == (400, 403)
    runs = await gateway.client.get(f"/v1/runs?tenant_id={tenant_id}", headers=auth(owner))
    assert (await runs.json())["runs"] == []
    versions = await gateway.client.get(
        f"/v1/tenants/{tenant_id}/config/versions", headers=auth(owner)
    )
    assert (await versions.json())["versions"] == []


async def test_guarded_activation_refuses_what_it_cannot_check(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id, stranger_id = f"t-{unique_id}", f"s-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    stranger = await create_tenant(gateway, stranger_id)
    config = feed_config(tenant_id)
    posted = await gateway.client.post(
        f"/v1/tenants/{tenant_id}/config/preview", json=config, headers=auth(owner)
    )
    assert posted.status == 202, await posted.text()
    preview_id = (await posted.json())["preview_id"]
    put_url = f"/v1/tenants/{tenant_id}/config"

    not_run = await gateway.client.put(
        f"{put_url}?require_preview={preview_id}", json=config, headers=auth(owner)
    )
    foreign = await gateway.client.put(
        f"/v1/tenants/{stranger_id}/config?require_preview={preview_id}",
        json=feed_config(stranger_id),
        headers=auth(stranger),
    )
    bad_force = await gateway.client.put(
        f"{put_url}?require_preview={preview_id}&force=maybe", json=config, headers=auth(owner)
    )
    bad_id = await gateway.client.put(
        f"{put_url}?require_preview=..%2F..%2Fx", json=config, headers=auth(owner)
    )

    assert await _error(not_run) == (409, "preview_not_ready")
    assert await _error(foreign) == (404, "unknown_preview")
    assert bad_force.status == 422
    assert bad_id.status == 422
    current = await gateway.client.get(put_url, headers=auth(owner))
    assert current.status == 404  # nothing was activated


async def test_restore_refuses_versions_that_name_nothing(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    url = f"/v1/tenants/{tenant_id}/config/restore"

    huge = await gateway.client.post(url, json={"version": 2**40}, headers=auth(owner))
    text = await gateway.client.post(url, json={"version": "1; DROP"}, headers=auth(owner))
    extra = await gateway.client.post(url, json={"version": 1, "x": 1}, headers=auth(owner))
    missing = await gateway.client.post(url, json={"version": 1}, headers=auth(owner))

    assert (huge.status, text.status, extra.status) == (422, 422, 422)
    assert await _error(missing) == (404, "no_config")
