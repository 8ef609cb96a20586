"""Tenant config versions, feed uploads and SKU maps."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator

import pytest
import yaml

from relay_shared import keys
from relay_shared.config_store import TenantConfigStore
from relay_shared.storage import ObjectStore
from tests.gateway.conftest import MAX_UPLOAD
from tests.gateway.harness import Gateway, api_key, auth, create_tenant, feed_config, put_config

pytestmark = pytest.mark.stack


async def test_each_put_is_a_new_version_stored_for_other_services(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    first = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config",
        data=yaml.safe_dump(feed_config(tenant_id)),
        headers={**auth(owner), "Content-Type": "application/yaml"},
    )
    second_config = feed_config(tenant_id, vendors=("acme",))
    second = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=second_config, headers=auth(owner)
    )

    assert (first.status, second.status) == (201, 201)
    assert await first.json() == {"tenant_id": tenant_id, "config_version": 1}
    assert await second.json() == {"tenant_id": tenant_id, "config_version": 2}
    current = await gateway.client.get(f"/v1/tenants/{tenant_id}/config", headers=auth(owner))
    assert await current.json() == {"config_version": 2, "config": second_config}
    old = await gateway.client.get(f"/v1/tenants/{tenant_id}/config?version=1", headers=auth(owner))
    assert (await old.json())["config"] == feed_config(tenant_id)
    loaded = await TenantConfigStore(object_store).load(tenant_id, 1)
    assert [v.vendor_id for v in loaded.vendors] == ["acme", "globex"]
    tenant = await gateway.client.get(f"/v1/tenants/{tenant_id}", headers=auth(owner))
    assert (await tenant.json())["config_version"] == 2


async def test_an_invalid_config_lists_problems_by_path(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    config = feed_config(tenant_id)
    config["vendors"][1]["parser"]["delimiter"] = ";;"
    config["colour"] = "blue"

    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner)
    )

    assert response.status == 422
    assert await response.json() == {
        "error": {
            "code": "invalid_config",
            "message": "the config is not valid",
            "details": {
                "problems": [
                    {"path": "vendors[1].parser.delimiter", "message": "must be one character"},
                    {"path": "colour", "message": "unknown key"},
                ]
            },
        }
    }


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b"tenant_id: x", 415),
        ("application/yaml", b"vendors: [unclosed", 400),
        ("application/json", b"{", 400),
        ("application/json", b"[1, 2]", 422),
    ],
)
async def test_config_bodies_are_checked(
    gateway: Gateway, unique_id: str, content_type: str, body: bytes, status: int
) -> None:
    owner = await create_tenant(gateway, f"t-{unique_id}")
    response = await gateway.client.put(
        f"/v1/tenants/t-{unique_id}/config",
        data=body,
        headers={**auth(owner), "Content-Type": content_type},
    )

    assert response.status == status


async def test_config_writes_need_the_owner_role(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    operator = await api_key(gateway, tenant_id, owner, "operator")

    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=feed_config(tenant_id), headers=auth(operator)
    )
    missing = await gateway.client.get(f"/v1/tenants/{tenant_id}/config", headers=auth(operator))

    assert response.status == 403
    assert missing.status == 404


async def test_shipstation_secrets_are_never_returned(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    config = feed_config(tenant_id)
    config["shipstation"] = {
        "webhook_token": "tok",
        "api_key": "k",
        "api_secret": "s",
        "store_channels": {"1": "amazon"},
    }
    await gateway.client.put(f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner))

    response = await gateway.client.get(f"/v1/tenants/{tenant_id}/config", headers=auth(owner))

    assert (await response.json())["config"]["shipstation"] == {
        "webhook_token": "***",
        "api_key": "***",
        "api_secret": "***",
        "store_channels": {"1": "amazon"},
    }


async def test_a_feed_upload_is_streamed_to_the_inbound_prefix(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    operator = await api_key(gateway, tenant_id, owner, "operator")
    data = b"SKU,Qty\nA-1,3\n" * 1000

    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/vendors/acme/feed",
        data=data,
        headers={**auth(operator), "Content-Type": "text/csv"},
    )

    assert response.status == 201
    body = await response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["size"] == len(data)
    day, upload = r"\d{4}/\d{2}/\d{2}", r"\d{8}T\d{12}Z-[0-9a-f]{8}"
    pattern = rf"tenants/{tenant_id}/inbound/acme/{day}/{upload}/raw\.csv"
    assert re.fullmatch(pattern, body["key"])
    assert await object_store.get_bytes(body["key"]) == data


async def _chunks(total: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * 65536
        sent += 65536


async def test_uploads_over_the_limit_are_413_and_leave_nothing(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    url = f"/v1/tenants/{tenant_id}/vendors/acme/feed"

    declared = await gateway.client.put(url, data=b"x" * (MAX_UPLOAD + 1), headers=auth(owner))
    streamed = await gateway.client.put(url, data=_chunks(MAX_UPLOAD * 2), headers=auth(owner))

    assert (declared.status, streamed.status) == (413, 413)
    assert (await streamed.json())["error"]["code"] == "payload_too_large"
    assert await object_store.list_objects(keys.inbound_prefix(tenant_id, "acme")) == []


async def test_uploads_need_a_configured_vendor_and_the_operator_role(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    no_config = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/vendors/acme/feed", data=b"x", headers=auth(owner)
    )
    await put_config(gateway, tenant_id, owner)
    viewer = await api_key(gateway, tenant_id, owner, "viewer")

    unknown = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/vendors/initech/feed", data=b"x", headers=auth(owner)
    )
    forbidden = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/vendors/acme/feed", data=b"x", headers=auth(viewer)
    )

    assert (no_config.status, unknown.status, forbidden.status) == (404, 404, 403)
    assert (await unknown.json())["error"]["code"] == "unknown_vendor"


async def test_a_sku_map_is_validated_and_stored(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    url = f"/v1/tenants/{tenant_id}/vendors/acme/sku-map"
    good = b"vendor_sku,sku\nV1,SKU-1\nV2,SKU-1\nV1,SKU-1\n"

    saved = await gateway.client.put(
        url, data=good, headers={**auth(owner), "Content-Type": "text/csv"}
    )
    conflict = await gateway.client.put(
        url, data=b"vendor_sku,sku\nV1,SKU-1\nV1,SKU-2\n,X\n", headers=auth(owner)
    )

    assert saved.status == 201
    assert await saved.json() == {"key": keys.sku_map_key(tenant_id, "acme"), "rows": 2}
    assert await object_store.get_bytes(keys.sku_map_key(tenant_id, "acme")) == good
    assert conflict.status == 422
    assert (await conflict.json())["error"]["details"]["problems"] == [
        {"path": "rows[1]", "message": "vendor_sku 'V1' is mapped to both 'SKU-1' and 'SKU-2'"},
        {"path": "rows[2]", "message": "vendor_sku and sku must not be empty"},
    ]
    assert json.loads(json.dumps(await saved.json()))["rows"] == 2
