"""The OpenAPI document matches the router and the answers; the role matrix, route by route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from aiohttp import web
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from tests.gateway.harness import (
    ADMIN,
    SECRET_KEY,
    Gateway,
    api_key,
    auth,
    create_tenant,
    feed_config,
    key_id_of,
    put_config,
)

pytestmark = pytest.mark.stack


def _routed(app: web.Application) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method != "HEAD" and path:
            routes.add((route.method.lower(), path))
    return routes


async def test_every_route_is_documented_and_nothing_else(gateway: Gateway) -> None:
    document = await (await gateway.client.get("/v1/openapi.json")).json()
    documented = {(method, path) for path, item in document["paths"].items() for method in item}

    assert document["openapi"] == "3.1.0"
    assert documented == _routed(gateway.app.web)


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": document["components"]})


async def test_answers_match_the_documented_shapes(gateway: Gateway, unique_id: str) -> None:
    document = await (await gateway.client.get("/v1/openapi.json")).json()
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    run = await (await gateway.client.post("/v1/runs", json={}, headers=auth(owner))).json()
    calls = [
        ("get", "/v1/health", "/v1/health", None),
        ("get", "/v1/ready", "/v1/ready", None),
        ("get", "/v1/tenants/{tenant_id}", f"/v1/tenants/{tenant_id}", None),
        ("get", "/v1/tenants/{tenant_id}/config", f"/v1/tenants/{tenant_id}/config", None),
        ("get", "/v1/runs", "/v1/runs", None),
        ("get", "/v1/runs/{run_id}", f"/v1/runs/{run['run_id']}", None),
        ("get", "/v1/runs/{run_id}/artifacts", f"/v1/runs/{run['run_id']}/artifacts", None),
        (
            "post",
            "/v1/tenants/{tenant_id}/api-keys",
            f"/v1/tenants/{tenant_id}/api-keys",
            {"roles": ["viewer"]},
        ),
        ("post", "/v1/auth/token", "/v1/auth/token", {"sub": "u", "roles": ["viewer"]}),
        ("get", "/v1/tenants/{tenant_id}", f"/v1/tenants/zz-{unique_id}", None),
        ("get", "/v1/tenants/{tenant_id}/insights", f"/v1/tenants/{tenant_id}/insights", None),
        (
            "get",
            "/v1/tenants/{tenant_id}/reallocation",
            f"/v1/tenants/{tenant_id}/reallocation",
            None,
        ),
    ]
    for method, template, url, body in calls:
        response = await gateway.client.request(method, url, json=body, headers=auth(owner))
        answers = document["paths"][template][method]["responses"]
        assert str(response.status) in answers, (url, response.status)
        schema = answers[str(response.status)]["content"]["application/json"]["schema"]
        errors = list(_validator(document, schema).iter_errors(await response.json()))
        assert errors == [], (url, errors)


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    required: str
    ok: int
    body: Any = None
    data: bytes | None = None


LEVELS = {"viewer": 1, "operator": 2, "owner": 3}


def _calls(tenant_id: str, run_id: str) -> list[Call]:
    base = f"/v1/tenants/{tenant_id}"
    return [
        Call("GET", base, "viewer", 200),
        Call("GET", f"{base}/config", "viewer", 200),
        Call("PUT", f"{base}/config", "owner", 201, body=feed_config(tenant_id)),
        Call("POST", f"{base}/api-keys", "owner", 201, body={"roles": ["viewer"]}),
        Call("DELETE", f"{base}/api-keys/key_unknown", "owner", 404),
        Call("PUT", f"{base}/vendors/acme/feed", "operator", 201, data=b"SKU,Qty\nA,1\n"),
        Call("PUT", f"{base}/vendors/acme/sku-map", "operator", 201, data=b"vendor_sku,sku\nA,B\n"),
        Call("POST", "/v1/runs", "operator", 202, body={"tenant_id": tenant_id}),
        Call("GET", f"/v1/runs?tenant_id={tenant_id}", "viewer", 200),
        Call("GET", f"/v1/runs/{run_id}", "viewer", 200),
        Call("GET", f"/v1/runs/{run_id}/artifacts", "viewer", 200),
        Call("GET", f"{base}/insights", "viewer", 200),
        Call("GET", f"{base}/reallocation", "viewer", 200),
        Call("GET", "/v1/schemas/feed.received", "anyone", 200),
        Call("GET", "/v1/schemas/no.such.subject", "anyone", 404),
    ]


def _user_token(tenant_id: str, role: str, kid: str) -> str:
    claims = {
        "sub": "u",
        "org_id": tenant_id,
        "roles": [role],
        "channels": [],
        "iat": 1,
        "exp": 4_000_000_000,
        "kid": kid,
        "jti": f"jti-{role}",
    }
    return jwt.encode(claims, SECRET_KEY, algorithm="HS256")


async def _status(gateway: Gateway, call: Call, headers: dict[str, str]) -> int:
    response = await gateway.client.request(
        call.method, call.url, json=call.body, data=call.data, headers=headers
    )
    return response.status


async def test_the_role_matrix(gateway: Gateway, unique_id: str) -> None:
    tenant_id, other_id = f"a-{unique_id}", f"b-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    other_owner = await create_tenant(gateway, other_id)
    await put_config(gateway, tenant_id, owner)
    run_id = (await (await gateway.client.post("/v1/runs", json={}, headers=auth(owner))).json())[
        "run_id"
    ]
    kid, other_kid = await key_id_of(gateway, owner), await key_id_of(gateway, other_owner)
    principals: dict[str, tuple[dict[str, str], str | None]] = {
        "viewer_key": (auth(await api_key(gateway, tenant_id, owner, "viewer")), "viewer"),
        "operator_key": (auth(await api_key(gateway, tenant_id, owner, "operator")), "operator"),
        "owner_key": (auth(owner), "owner"),
        "viewer_token": (auth(_user_token(tenant_id, "viewer", kid)), "viewer"),
        "operator_token": (auth(_user_token(tenant_id, "operator", kid)), "operator"),
        "owner_token": (auth(_user_token(tenant_id, "owner", kid)), "owner"),
        "admin": (ADMIN, "admin"),
        "other_owner": (auth(other_owner), None),
        "other_token": (auth(_user_token(other_id, "owner", other_kid)), None),
        "no_credentials": ({}, "none"),
        "bad_token": (auth(_user_token(tenant_id, "owner", kid) + "x"), "none"),
    }
    failures = []
    for call in _calls(tenant_id, run_id):
        for name, (headers, role) in principals.items():
            expected = _expected(call, role)
            got = await _status(gateway, call, headers)
            if got != expected:
                failures.append((call.method, call.url, name, expected, got))

    assert failures == []


def _expected(call: Call, role: str | None) -> int:
    if call.required == "anyone":
        return call.ok
    if role is None:
        return 404
    if role == "none":
        return 401
    if role == "admin" or LEVELS[role] >= LEVELS[call.required]:
        return call.ok
    return 403
