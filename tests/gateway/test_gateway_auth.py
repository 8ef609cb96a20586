"""Tenants, API keys, user tokens and the role rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.gateway.harness import (
    ADMIN,
    SECRET_KEY,
    Gateway,
    api_key,
    auth,
    create_tenant,
    key_id_of,
)

pytestmark = pytest.mark.stack


async def test_admin_creates_a_tenant_with_an_owner_key(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    response = await gateway.client.post(
        "/v1/tenants",
        json={"tenant_id": tenant_id, "name": "Acme", "channels": ["woot", "amazon"]},
        headers=ADMIN,
    )

    assert response.status == 201
    body = await response.json()
    assert body["tenant"] == {
        "tenant_id": tenant_id,
        "name": "Acme",
        "channels": ["amazon", "woot"],
        "config_version": None,
    }
    assert body["api_key"].startswith("rk_")
    owner = await gateway.client.get(f"/v1/tenants/{tenant_id}", headers=auth(body["api_key"]))
    assert owner.status == 200
    assert await owner.json() == body["tenant"]


async def test_the_key_is_stored_hashed(gateway: Gateway, unique_id: str) -> None:
    key = await create_tenant(gateway, f"t-{unique_id}")
    pool = gateway.app.context.tenants._pool
    hashes = await pool.fetch(
        "SELECT key_hash FROM api_keys WHERE tenant_id = $1", f"t-{unique_id}"
    )

    assert len(hashes) == 1
    assert key not in hashes[0]["key_hash"]
    assert len(hashes[0]["key_hash"]) == 64


async def test_a_tenant_id_is_created_once(gateway: Gateway, unique_id: str) -> None:
    await create_tenant(gateway, f"t-{unique_id}")
    again = await gateway.client.post(
        "/v1/tenants", json={"tenant_id": f"t-{unique_id}", "name": "x"}, headers=ADMIN
    )

    assert again.status == 409
    assert (await again.json())["error"]["code"] == "tenant_exists"


async def test_only_an_admin_creates_tenants(gateway: Gateway, unique_id: str) -> None:
    owner = await create_tenant(gateway, f"t-{unique_id}")
    response = await gateway.client.post(
        "/v1/tenants", json={"tenant_id": f"u-{unique_id}", "name": "x"}, headers=auth(owner)
    )

    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden"


async def test_an_invalid_tenant_body_lists_problems_by_path(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/v1/tenants", json={"tenant_id": "Bad Id", "channels": ["myspace"]}, headers=ADMIN
    )

    assert response.status == 422
    problems = (await response.json())["error"]["details"]["problems"]
    assert [p["path"] for p in problems] == ["tenant_id", "name", "channels[0]"]


async def test_malformed_json_is_400(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/v1/tenants", data=b"{nope", headers={**ADMIN, "Content-Type": "application/json"}
    )

    assert response.status == 400
    assert (await response.json())["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rk_not_a_key"},
        {"X-API-Key": "rk_not_a_key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
)
async def test_missing_or_bad_credentials_are_401(
    gateway: Gateway, unique_id: str, headers: dict[str, str]
) -> None:
    await create_tenant(gateway, f"t-{unique_id}")
    response = await gateway.client.get(f"/v1/tenants/t-{unique_id}", headers=headers)

    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_x_api_key_header_works(gateway: Gateway, unique_id: str) -> None:
    owner = await create_tenant(gateway, f"t-{unique_id}")
    response = await gateway.client.get(f"/v1/tenants/t-{unique_id}", headers={"X-API-Key": owner})

    assert response.status == 200


async def test_another_tenant_is_404_never_403(gateway: Gateway, unique_id: str) -> None:
    owner_a = await create_tenant(gateway, f"a-{unique_id}")
    await create_tenant(gateway, f"b-{unique_id}")

    response = await gateway.client.get(f"/v1/tenants/b-{unique_id}", headers=auth(owner_a))
    unknown = await gateway.client.get(f"/v1/tenants/zz-{unique_id}", headers=auth(owner_a))

    assert response.status == 404
    assert await response.json() == await unknown.json()


async def test_keys_carry_roles_and_can_be_revoked(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    created = await gateway.client.post(
        f"/v1/tenants/{tenant_id}/api-keys", json={"roles": ["viewer"]}, headers=auth(owner)
    )
    body = await created.json()
    viewer = body["api_key"]

    read = await gateway.client.get(f"/v1/tenants/{tenant_id}", headers=auth(viewer))
    write = await gateway.client.post(
        f"/v1/tenants/{tenant_id}/api-keys", json={"roles": ["viewer"]}, headers=auth(viewer)
    )
    revoked = await gateway.client.delete(
        f"/v1/tenants/{tenant_id}/api-keys/{body['key_id']}", headers=auth(owner)
    )
    after = await gateway.client.get(f"/v1/tenants/{tenant_id}", headers=auth(viewer))
    again = await gateway.client.delete(
        f"/v1/tenants/{tenant_id}/api-keys/{body['key_id']}", headers=auth(owner)
    )

    assert created.status == 201
    assert (read.status, write.status, revoked.status, after.status) == (200, 403, 204, 401)
    assert again.status == 404


async def test_admin_cannot_be_granted_to_a_tenant_key(gateway: Gateway, unique_id: str) -> None:
    owner = await create_tenant(gateway, f"t-{unique_id}")
    response = await gateway.client.post(
        f"/v1/tenants/t-{unique_id}/api-keys", json={"roles": ["admin"]}, headers=auth(owner)
    )

    assert response.status == 422
    assert (await response.json())["error"]["details"]["problems"][0]["path"] == "roles[0]"


async def _token(gateway: Gateway, key: str, **body: Any) -> Any:
    return await gateway.client.post("/v1/auth/token", json=body, headers=auth(key))


async def test_an_owner_issues_a_user_token(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    before = datetime.now(UTC).replace(microsecond=0)
    response = await _token(
        gateway, owner, sub="user@example.com", roles=["viewer"], channels=["ebay"]
    )

    assert response.status == 200
    body = await response.json()
    claims = jwt.decode(body["token"], SECRET_KEY, algorithms=["HS256"])
    assert {k: claims[k] for k in ("sub", "org_id", "roles", "channels")} == {
        "sub": "user@example.com",
        "org_id": tenant_id,
        "roles": ["viewer"],
        "channels": ["ebay"],
    }
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert claims["exp"] == int(expires_at.timestamp())
    assert before + timedelta(hours=24) <= expires_at <= before + timedelta(hours=24, seconds=5)
    read = await gateway.client.get(f"/v1/tenants/{tenant_id}", headers=auth(body["token"]))
    write = await gateway.client.post(
        f"/v1/tenants/{tenant_id}/api-keys", json={"roles": ["viewer"]}, headers=auth(body["token"])
    )
    assert (read.status, write.status) == (200, 403)


async def test_token_issuing_rules(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    operator = await api_key(gateway, tenant_id, owner, "operator")
    owner_token = (await (await _token(gateway, owner, sub="u", roles=["owner"])).json())["token"]

    by_operator = await _token(gateway, operator, sub="u", roles=["viewer"])
    by_token = await _token(gateway, owner_token, sub="u", roles=["viewer"])
    unknown_channel = await _token(gateway, owner, sub="u", roles=["viewer"], channels=["woot"])
    other_tenant = await _token(
        gateway, owner, sub="u", roles=["viewer"], tenant_id=f"x-{unique_id}"
    )

    assert (by_operator.status, by_token.status) == (403, 403)
    assert unknown_channel.status == 422
    assert other_tenant.status == 404


def _claims(tenant_id: str, kid: str, **overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    return {
        "sub": "u",
        "org_id": tenant_id,
        "roles": ["owner"],
        "channels": [],
        "iat": now,
        "exp": now + 3600,
        "kid": kid,
        "jti": "jti-1",
        **overrides,
    }


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = "A" if payload[5] != "A" else "B"
    return ".".join([header, payload[:5] + flipped + payload[6:], signature])


def _bad_tokens(tenant_id: str, kid: str, viewer_kid: str) -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = _claims(tenant_id, kid)
    good = jwt.encode(claims, SECRET_KEY, algorithm="HS256")

    def without(name: str) -> str:
        return jwt.encode(
            {k: v for k, v in claims.items() if k != name}, SECRET_KEY, algorithm="HS256"
        )

    return {
        "alg_none": jwt.encode(claims, None, algorithm="none"),  # type: ignore[arg-type]
        "rs256": jwt.encode(claims, private, algorithm="RS256"),
        "wrong_secret": jwt.encode(claims, "another-secret-key-of-32-bytes!!", algorithm="HS256"),
        "expired": jwt.encode(_claims(tenant_id, kid, exp=1_000_000), SECRET_KEY, "HS256"),
        "tampered": _tampered(good),
        "admin_role": jwt.encode(_claims(tenant_id, kid, roles=["admin"]), SECRET_KEY, "HS256"),
        "no_org": without("org_id"),
        "no_kid": without("kid"),
        "no_jti": without("jti"),
        "unknown_kid": jwt.encode(_claims(tenant_id, "key_0000"), SECRET_KEY, "HS256"),
        "above_its_key": jwt.encode(_claims(tenant_id, viewer_kid), SECRET_KEY, "HS256"),
    }


async def test_untrustworthy_tokens_are_401(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    kid = await key_id_of(gateway, owner)
    viewer = await gateway.client.post(
        f"/v1/tenants/{tenant_id}/api-keys", json={"roles": ["viewer"]}, headers=auth(owner)
    )
    viewer_kid = (await viewer.json())["key_id"]
    good = jwt.encode(_claims(tenant_id, kid), SECRET_KEY, algorithm="HS256")
    assert (await gateway.client.get(f"/v1/tenants/{tenant_id}", headers=auth(good))).status == 200

    statuses = {
        name: (await gateway.client.get(f"/v1/tenants/{tenant_id}", headers=auth(token))).status
        for name, token in _bad_tokens(tenant_id, kid, viewer_kid).items()
    }

    assert statuses == dict.fromkeys(statuses, 401)


async def test_revoking_a_key_revokes_its_tokens(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    second_owner = await api_key(gateway, tenant_id, owner, "owner")
    second_kid = await key_id_of(gateway, second_owner)
    token = (await (await _token(gateway, second_owner, sub="u", roles=["owner"])).json())["token"]
    path = f"/v1/tenants/{tenant_id}"
    assert (await gateway.client.get(path, headers=auth(token))).status == 200

    revoked = await gateway.client.delete(f"{path}/api-keys/{second_kid}", headers=auth(owner))
    read = await gateway.client.get(path, headers=auth(token))
    mint = await gateway.client.post(
        f"{path}/api-keys", json={"roles": ["owner"]}, headers=auth(token)
    )

    assert revoked.status == 204
    assert (read.status, (await read.json())["error"]["code"]) == (401, "token_revoked")
    assert mint.status == 401
    assert (await gateway.client.get(path, headers=auth(owner))).status == 200


async def test_a_token_only_sees_its_org(gateway: Gateway, unique_id: str) -> None:
    owner_a = await create_tenant(gateway, f"a-{unique_id}")
    await create_tenant(gateway, f"b-{unique_id}")
    kid = await key_id_of(gateway, owner_a)
    token = jwt.encode(_claims(f"a-{unique_id}", kid), SECRET_KEY, algorithm="HS256")

    response = await gateway.client.get(f"/v1/tenants/b-{unique_id}", headers=auth(token))

    assert response.status == 404
