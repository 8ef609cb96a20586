"""Hostile input at the gateway, as an attacker holding an ordinary tenant owner key would send
it, against the whole system (every service its own process, real NATS, Postgres and S3).

Each case asserts the exact refusal, and the module ends by showing the system still serves
another tenant end to end (upload, run, merged feed). The gateway's peak RSS over all the
bombs stays small, and no log line of the gateway grows past a few KiB.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from tests.support.live_system import LiveSystem

pytestmark = pytest.mark.stack
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "acme_parts"
YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}
GATEWAY_RSS_CAP_KB = 400 * 1024
LOG_LINE_CAP = 16 * 1024


def example_config(tenant_id: str) -> str:
    return (EXAMPLES / "tenant.yaml").read_text(encoding="utf-8").replace("acme_parts", tenant_id)


def billion_laughs() -> bytes:
    """Nine levels of aliases, nine references each: 9^9 strings once expanded."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines).encode()


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@dataclass(frozen=True)
class Tenants:
    attacker_id: str
    attacker_key: str
    victim_id: str


@pytest.fixture(scope="module")
async def tenants(live_system: LiveSystem) -> AsyncIterator[Tenants]:
    """An attacker (a plain tenant owner) and a victim whose config names its SKU map."""
    attacker_id, victim_id = (f"{who}-{uuid.uuid4().hex[:8]}" for who in ("mallory", "victim"))
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, live_system.gateway_url, live_system.admin_key)
        attacker_key = await admin.create_tenant(attacker_id, "Mallory", ["amazon"])
        victim = admin.as_key(await admin.create_tenant(victim_id, "Victim", ["amazon"]))
        await victim.put_config(victim_id, example_config(victim_id))
        csv = (EXAMPLES / "sku_map_vendor_1.csv").read_bytes()
        await victim.put_sku_map(victim_id, "vendor_1", csv)
        yield Tenants(attacker_id, attacker_key, victim_id)


@pytest.fixture
def attacker_id(tenants: Tenants) -> str:
    return tenants.attacker_id


@pytest.fixture
def victim_id(tenants: Tenants) -> str:
    return tenants.victim_id


@pytest.fixture
def attacker(admin: GatewayClient, tenants: Tenants) -> GatewayClient:
    return admin.as_key(tenants.attacker_key)


async def _put_config(client: GatewayClient, tenant_id: str, body: bytes, headers: Any) -> Any:
    started = time.perf_counter()
    response = await client.request(
        "PUT",
        f"/v1/tenants/{tenant_id}/config",
        data=body,
        headers=headers,
        expect=(201, 400, 413, 415, 422),
    )
    return response, time.perf_counter() - started


@pytest.mark.parametrize(
    ("name", "body", "headers", "message"),
    [
        (
            "billion_laughs",
            billion_laughs(),
            YAML,
            "more than 200000 values once its aliases are expanded",
        ),
        ("recursive_alias", b"a: &a [*a]\n", YAML, "alias *a refers to itself or to nothing"),
        ("yaml_5000_deep", b"[" * 5000 + b"]" * 5000, YAML, "nested deeper than 32 levels"),
        ("json_100000_deep", b"[" * 100_000 + b"]" * 100_000, JSON, "nested deeper than 32 levels"),
        ("yaml_python_tag", b"a: !!python/object/apply:os.system [id]\n", YAML, None),
        ("yaml_huge_int", b"a: " + b"9" * 5000 + b"\n", YAML, None),
    ],
)
async def test_a_bomb_document_is_a_400_in_milliseconds(
    attacker: GatewayClient,
    attacker_id: str,
    live_system: LiveSystem,
    name: str,
    body: bytes,
    headers: dict[str, str],
    message: str | None,
) -> None:
    response, seconds = await _put_config(attacker, attacker_id, body, headers)

    assert (response.status, response.body["error"]["code"]) == (400, "malformed_document")
    if message is not None:
        assert response.body["error"]["message"] == message
    assert seconds < 1.0, f"{name} took {seconds:.3f} s"
    assert vm_hwm_kb(live_system.services.pid("gateway")) < GATEWAY_RSS_CAP_KB


def _config_with(tenant_id: str, old: str, new: str) -> bytes:
    text = example_config(tenant_id)
    assert old in text
    return text.replace(old, new, 1).encode()


async def test_a_config_naming_another_tenants_objects_is_refused_alike(
    attacker: GatewayClient, attacker_id: str, victim_id: str
) -> None:
    """Whether the foreign key exists or not, the answer is the same 422."""
    own = f"tenants/{attacker_id}/config/sku_map_vendor_1.csv"
    answers = []
    for foreign in (
        f"tenants/{victim_id}/config/sku_map_vendor_1.csv",  # exists
        f"tenants/{victim_id}/config/sku_map_nobody.csv",  # does not
        f"tenants/{attacker_id}/../{victim_id}/config/sku_map_vendor_1.csv",
    ):
        response, _ = await _put_config(
            attacker, attacker_id, _config_with(attacker_id, own, foreign), YAML
        )
        answers.append((response.status, response.body["error"]["details"]))
    prefix_body = _config_with(
        attacker_id, f"tenants/{attacker_id}/inbound/", f"tenants/{victim_id}/inbound/"
    )
    prefix, _ = await _put_config(attacker, attacker_id, prefix_body, YAML)

    expected = {
        "problems": [
            {
                "path": "vendors[0].sku_map.s3_key",
                "message": f"must lie under tenants/{attacker_id}/ (no '..' or '.' parts)",
            }
        ]
    }
    assert answers == [(422, expected)] * 3
    assert (prefix.status, prefix.body["error"]["details"]["problems"]) == (
        422,
        [
            {
                "path": "vendors[0].inbound.s3_prefix",
                "message": f"must lie under tenants/{attacker_id}/ (no '..' or '.' parts)",
            }
        ],
    )


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            'encoding: "utf-8"',
            'encoding: "bz2_codec"',
            "vendors[0].parser.encoding",
            "'bz2_codec' is not a supported text encoding",
        ),
        (
            'encoding: "utf-8"',
            'encoding: "rot13"',
            "vendors[0].parser.encoding",
            "'rot13' is not a supported text encoding",
        ),
        (
            'vendor_id: "vendor_2"',
            'vendor_id: "../../acme/inbound/vendor_2"',
            "vendors[1].vendor_id",
            "a vendor id is 1-64 letters",
        ),
        (
            'vendor_id: "vendor_2"',
            'vendor_id: "' + "v" * 5000 + '"',
            "vendors[1].vendor_id",
            "a vendor id is 1-64 letters",
        ),
        (
            'vendor_id: "vendor_2"',
            "vendor_id: '\"q\"'",
            "vendors[1].vendor_id",
            "a vendor id is 1-64 letters",
        ),
        (
            'delimiter: ","',
            'delimiter: ","\n      header_row: 99999999999999999999999',
            "vendors[0].parser.header_row",
            "Input should be less than or equal to 1000000",
        ),
        (
            "base_margin_pct: 0.20",
            'base_margin_pct: "1e400"',
            "pricing.base_margin_pct",
            "must be from 0 to 100",
        ),
        (
            "shipping_handling_flat: 9.99",
            'shipping_handling_flat: "1e999999"',
            "pricing.shipping_handling_flat",
            "must be at most 1000000000.00",
        ),
        (
            'title: "Title"',
            'title: "Ti\\0tle"',
            "vendors[0].parser.column_map.title",
            "must not contain a NUL character",
        ),
        (
            'default_currency: "USD"',
            'default_currency: "USD"\nshipstation: {store_channels: {"1": "etsy"}}',
            "shipstation.store_channels.1",
            "'etsy' is not a channel of the tenant",
        ),
        (
            "share_pct: 100",
            "share_pct: 250",
            "channels.amazon.allocation.share_pct",
            "Input should be less than or equal to 100",
        ),
    ],
)
async def test_a_config_that_would_break_a_run_is_a_422_naming_the_path(
    attacker: GatewayClient, attacker_id: str, old: str, new: str, path: str, message: str
) -> None:
    response, _ = await _put_config(
        attacker, attacker_id, _config_with(attacker_id, old, new), YAML
    )

    assert (response.status, response.body["error"]["code"]) == (422, "invalid_config")
    problems = response.body["error"]["details"]["problems"]
    assert [problem["path"] for problem in problems] == [path]
    assert problems[0]["message"].startswith(message)


async def _raw_request(system: LiveSystem, request: bytes, *, read_timeout: float) -> bytes:
    """Send ``request`` as raw bytes (headers no client library would send) and read the
    answer until the server closes or ``read_timeout`` passes."""
    host, port = system.gateway_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(read_timeout):
            head = await reader.readuntil(b"\r\n\r\n")
            return head
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("header", "status_line"),
    [
        (b"X-API-Key: rk_\xff\xfe", b"HTTP/1.1 401 Unauthorized"),
        (b"Authorization: Bearer \xc3\x28abc", b"HTTP/1.1 401 Unauthorized"),
        # a control character never gets past aiohttp's own header parser
        (b"X-API-Key: rk_\x01", b"HTTP/1.0 400 Bad Request"),
    ],
)
async def test_credentials_that_are_not_text_are_refused(
    live_system: LiveSystem, attacker_id: str, header: bytes, status_line: bytes
) -> None:
    request = (
        f"GET /v1/tenants/{attacker_id} HTTP/1.1\r\nHost: x\r\n".encode()
        + header
        + b"\r\nConnection: close\r\n\r\n"
    )
    head = await _raw_request(live_system, request, read_timeout=10)

    assert head.split(b"\r\n")[0] == status_line


async def test_a_body_shorter_than_its_length_is_a_408_not_a_held_connection(
    live_system: LiveSystem, tenants: Tenants
) -> None:
    """The live system reads bodies for at most APP_BODY_READ_TIMEOUT_S (2 s here)."""
    request = (
        f"PUT /v1/tenants/{tenants.attacker_id}/config HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {tenants.attacker_key}\r\nContent-Type: application/yaml\r\n"
        "Content-Length: 1000\r\n\r\ntenant_id: x\n"
    ).encode()
    started = time.perf_counter()
    head = await _raw_request(live_system, request, read_timeout=15)

    assert head.split(b"\r\n")[0] == b"HTTP/1.1 408 Request Timeout"
    assert 1.5 < time.perf_counter() - started < 10


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/runs/%00", 400, "malformed_request"),
        ("GET", "/v1/runs/run%2F..%2Fx", 404, "not_found"),
        ("GET", "/v1/runs?tenant_id=%00", 400, "malformed_request"),
        ("GET", "/v1/runs?tenant_id=ACME%20x", 422, "invalid_content"),
        ("GET", "/v1/tenants/{t}/insights?channel=%00", 400, "malformed_request"),
        ("GET", "/v1/tenants/{t}/insights?channel=%C3%A9", 422, "invalid_content"),
        ("GET", "/v1/tenants/%00", 400, "malformed_request"),
        ("GET", "/v1/tenants/a%C3%A9", 404, "not_found"),
        ("DELETE", "/v1/tenants/{t}/api-keys/%00x", 400, "malformed_request"),
        ("PUT", "/v1/tenants/{t}/vendors/..%2Fx/feed", 404, "not_found"),
        ("GET", "/v1/runs?cursor=" + "W" * 2000, 400, "invalid_cursor"),
    ],
)
async def test_nul_bytes_and_odd_ids_in_paths_and_queries_are_4xx(
    attacker: GatewayClient, attacker_id: str, method: str, path: str, status: int, code: str
) -> None:
    url = attacker.base_url + path.replace("{t}", attacker_id)
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            aiohttp.client.URL(url, encoded=True),
            headers={"Authorization": f"Bearer {attacker.api_key}"},
            data=b"x" if method == "PUT" else None,
        ) as response,
    ):
        body = await response.json()

    assert (response.status, body["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"tenant_id": "a\x00b", "name": "n", "channels": []}, "tenant_id"),
        ({"tenant_id": "nul-name", "name": "a\x00b", "channels": []}, "name"),
        ({"tenant_id": "nul-ch", "name": "n", "channels": ["\x00"]}, "channels[0]"),
    ],
)
async def test_nul_bytes_in_json_bodies_are_a_422_naming_the_field(
    admin: GatewayClient, body: dict[str, Any], path: str
) -> None:
    response = await admin.request(
        "POST", "/v1/tenants", data=json.dumps(body).encode(), headers=JSON, expect=(422,)
    )

    problems = response.body["error"]["details"]["problems"]
    assert [problem["path"] for problem in problems] == [path]


async def test_revoking_a_key_revokes_the_tokens_it_minted(
    admin: GatewayClient, attacker: GatewayClient, attacker_id: str
) -> None:
    second = await attacker.request(
        "POST", f"/v1/tenants/{attacker_id}/api-keys", json_body={"roles": ["owner"]}, expect=(201,)
    )
    minter = admin.as_key(second.body["api_key"])
    issued = await minter.request(
        "POST", "/v1/auth/token", json_body={"sub": "eve", "roles": ["owner"]}, expect=(200,)
    )
    token = admin.as_key(issued.body["token"])
    assert (await token.request("GET", f"/v1/tenants/{attacker_id}")).status == 200

    await attacker.request(
        "DELETE", f"/v1/tenants/{attacker_id}/api-keys/{second.body['key_id']}", expect=(204,)
    )
    read = await token.request("GET", f"/v1/tenants/{attacker_id}", expect=(401,))
    mint = await token.request(
        "POST",
        f"/v1/tenants/{attacker_id}/api-keys",
        json_body={"roles": ["owner"]},
        expect=(401,),
    )

    assert (read.body["error"]["code"], mint.body["error"]["code"]) == (
        "token_revoked",
        "token_revoked",
    )


async def test_after_all_that_the_gateway_logs_short_lines_and_serves_another_tenant(
    admin: GatewayClient, live_system: LiveSystem, victim_id: str
) -> None:
    """Runs last in the module (pytest keeps file order): the victim's run succeeds."""
    issued = await admin.request(
        "POST",
        "/v1/auth/token",
        json_body={"sub": "ops", "roles": ["owner"], "tenant_id": victim_id},
    )
    victim = admin.as_key(issued.body["token"])
    for vendor_id, name, content_type in (
        ("vendor_1", "vendor_1.csv", "text/csv"),
        ("vendor_2", "vendor_2.csv", "text/csv"),
        ("vendor_3", "vendor_3.json", "application/json"),
    ):
        body = (EXAMPLES / "feeds" / name).read_bytes()
        await victim.upload_feed(victim_id, vendor_id, body, content_type)
    run = await victim.start_run(victim_id)
    async with asyncio.timeout(60):
        finished = await victim.wait_for_run(run["run_id"])

    assert (finished["status"], finished["vendors"]["vendor_1"]["accepted"]) == ("SUCCEEDED", 9)
    peak_kb = vm_hwm_kb(live_system.services.pid("gateway"))
    print(f"gateway peak RSS after every hostile case: {peak_kb / 1024:.0f} MiB")
    assert peak_kb < GATEWAY_RSS_CAP_KB
    assert live_system.services.unexpected_exits() == {}
    log = live_system.services.log_path("gateway").read_bytes().splitlines()
    assert max(len(line) for line in log) < LOG_LINE_CAP
