"""Vendor pull config (``inbound.type`` https or sftp): every problem refused with its path,
at ``PUT …/config`` too, and the pull secrets sealed like the ShipStation ones (sealed in the
database and the bucket, ``***`` on GET, kept when put back as ``***``, opened by ingest)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import keys
from relay_shared.config_store import TenantConfigStore
from relay_shared.secrets_box import SecretsBox, is_sealed
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import ConfigError, parse_tenant_config
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import SECRET_KEY, Gateway, auth, create_tenant, feed_config
from tests.support.vendor_servers import other_host_key_line

HOST_KEY = other_host_key_line()
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nplain-key-material\n-----END OPENSSH PRIVATE KEY-----"
)


def _https(**fields: Any) -> dict[str, Any]:
    return {
        "type": "https",
        "url": "https://vendor.example/f.csv",
        "schedule": "0 6 * * *",
        **fields,
    }


def _sftp(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "sftp",
        "host": "sftp.vendor.example",
        "path": "/out/feed.csv",
        "username": "acme",
        "password": "pw",
        "known_host_key": HOST_KEY,
        "schedule": "30 6 * * *",
    }
    return {k: v for k, v in {**base, **fields}.items() if v is not None}


def _problems(tenant_id: str, *inbounds: dict[str, Any]) -> list[str]:
    config = feed_config(tenant_id, tuple(f"v{i}" for i in range(len(inbounds))))
    for vendor, inbound in zip(config["vendors"], inbounds, strict=True):
        vendor["inbound"] = inbound
    with pytest.raises(ConfigError) as refused:
        parse_tenant_config(config)
    return [str(problem) for problem in refused.value.problems]


def test_each_pull_problem_is_refused_with_its_path() -> None:
    problems = _problems(
        "t1",
        _https(url="http://vendor.example/f.csv"),
        _https(url="https://user:pw@vendor.example/f.csv"),
        _https(schedule="* * * * *"),
        _sftp(path="/out/../etc/passwd"),
        _sftp(path=None, glob="/o*t/*.csv"),
        _sftp(known_host_key="not a key"),
    )

    assert problems == [
        "vendors[0].inbound.url: must be an https:// URL with a host",
        "vendors[1].inbound.url: must not hold credentials (use auth)",
        "vendors[2].inbound.schedule: runs more often than every 5 minutes",
        "vendors[3].inbound.path: must not have '.', '..' or empty parts (it may not leave its"
        " folder)",
        "vendors[4].inbound.glob: wildcards are allowed in the file name only",
        "vendors[5].inbound.known_host_key: must be an OpenSSH public key line"
        " (ssh-ed25519|ecdsa-sha2-*|ssh-rsa AAAA...)",
    ]


def test_fields_a_type_needs_or_does_not_take_are_named() -> None:
    problems = _problems(
        "t1",
        _https(host="x", auth={"type": "bearer"}),
        _sftp(known_host_key=None, private_key="k"),
        _sftp(path=None, schedule=None),
        {"type": "s3", "schedule": "0 6 * * *"},
    )

    assert problems == [
        "vendors[0].inbound.host: is not a field of type https",
        "vendors[0].inbound.auth.token: is required for type bearer",
        "vendors[1].inbound.known_host_key: is required for type sftp",
        "vendors[1].inbound.password: exactly one of password or private_key is required",
        "vendors[2].inbound.schedule: is required for type sftp",
        "vendors[2].inbound.path: exactly one of path or glob is required",
        "vendors[3].inbound.schedule: is not a field of type s3",
    ]


@pytest.fixture(scope="module")
async def gateway(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with serving_gateway(stack, tmp_path_factory.mktemp("gateway")) as served:
        yield served


def _config(tenant_id: str, token: str, private_key: str) -> dict[str, Any]:
    config = feed_config(tenant_id)
    config["vendors"][0]["inbound"] = _https(auth={"type": "bearer", "token": token})
    config["vendors"][1]["inbound"] = _sftp(password=None, private_key=private_key)
    return config


@pytest.mark.stack
async def test_put_config_lists_pull_problems_by_path(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    config = feed_config(tenant_id)
    config["vendors"][0]["inbound"] = _https(schedule="*/1 * * * *")
    config["vendors"][1]["inbound"] = _sftp(path="/out/../../etc/passwd")
    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner)
    )

    assert response.status == 422
    assert (await response.json())["error"]["details"]["problems"] == [
        {
            "path": "vendors[0].inbound.schedule",
            "message": "runs more often than every 5 minutes",
        },
        {
            "path": "vendors[1].inbound.path",
            "message": "must not have '.', '..' or empty parts (it may not leave its folder)",
        },
    ]


@pytest.mark.stack
async def test_pull_secrets_are_sealed_redacted_and_carried(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    url = f"/v1/tenants/{tenant_id}/config"
    put = await gateway.client.put(
        url, json=_config(tenant_id, "tok-plain-1", PRIVATE_KEY), headers=auth(owner)
    )
    shown = (await (await gateway.client.get(url, headers=auth(owner))).json())["config"]
    shown["vendors"], reordered = shown["vendors"][::-1], shown
    again = await gateway.client.put(url, json=reordered, headers=auth(owner))
    unknown = _config(tenant_id, "***", PRIVATE_KEY)
    unknown["vendors"][0]["vendor_id"] = "newcomer"
    refused = await gateway.client.put(url, json=unknown, headers=auth(owner))
    pool = gateway.app.context.tenants._pool
    row = await pool.fetchval(
        "SELECT config::text FROM config_versions WHERE tenant_id = $1 AND version = 2",
        tenant_id,
    )
    stored = await object_store.get_bytes(keys.config_version_key(tenant_id, 2))
    loaded = await TenantConfigStore(object_store).load(tenant_id, 2)
    box = SecretsBox(SECRET_KEY)
    https, sftp = loaded.vendor("acme").inbound, loaded.vendor("globex").inbound

    assert (put.status, again.status, refused.status) == (201, 201, 422)
    assert [v["inbound"].get("auth", {}).get("token") for v in shown["vendors"]] == [None, "***"]
    assert [v["inbound"].get("private_key") for v in shown["vendors"]] == ["***", None]
    for plaintext in ("tok-plain-1", "plain-key-material"):
        assert plaintext not in row
        assert plaintext.encode() not in stored
    assert https is not None
    assert https.auth is not None
    assert sftp is not None
    assert is_sealed(https.auth.token)
    assert is_sealed(sftp.private_key)
    assert box.open(str(https.auth.token)) == "tok-plain-1"
    assert box.open(str(sftp.private_key)) == PRIVATE_KEY
    assert (await refused.json())["error"]["details"]["problems"] == [
        {
            "path": "vendors[0].inbound.auth.token",
            "message": "is *** but no earlier version holds a value",
        }
    ]
    assert json.loads(stored)["config"]["vendors"][0]["vendor_id"] == "globex"
