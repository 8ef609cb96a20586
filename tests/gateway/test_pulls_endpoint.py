"""``GET /v1/tenants/{id}/pulls``: the gateway's read model of ingest's ``vendor.pulled``
reports, fed by a real ingest pulling from a real local HTTPS server: each pulled vendor's
last attempt, outcome, error and next scheduled time (the same as ingest's own state), a
transient failure shown as ``retrying`` with its error, and a vendor the config no longer
pulls gone from the list."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.settings import IngestSettings
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import SECRET_KEY, Gateway, api_key, auth, create_tenant, eventually
from tests.support.running import running
from tests.support.vendor_servers import (
    FeedFile,
    VendorHttps,
    self_signed_certificate,
    vendor_https,
)

pytestmark = pytest.mark.stack
STREAM = f"PULLSAPI_{uuid.uuid4().hex[:8].upper()}"
FEED = b"SKU,QTY,COST\nsku-1,3,10.00\n"
HOURLY = "0 * * * *"
MAP = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("pulls-tls"))


@pytest.fixture(scope="module")
async def vendor(certificate: tuple[Path, Path]) -> AsyncIterator[VendorHttps]:
    async with vendor_https(*certificate) as served:
        yield served


@pytest.fixture(scope="module")
async def gateway(
    certificate: tuple[Path, Path],
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Gateway]:
    """The gateway and one ingest pulling every 0.1 s (a 503 retried after 30 s)."""
    settings = IngestSettings.from_env(
        isolated_bus.as_env(),
        nats_stream=STREAM,
        inbound_poll_s=0,
        schedule_tick_s=0,
        pull_tick_s=0.1,
        pull_retry_base_s=30,
        pull_ca_file=str(certificate[0]),
        pull_allow_private=True,
        secret_key=SECRET_KEY,
    )
    state = tmp_path_factory.mktemp("gateway-pulls")
    async with (
        running([IngestApp(settings)]),
        serving_gateway(isolated_bus, state, nats_stream=STREAM) as served,
    ):
        yield served


def _config(tenant_id: str, inbounds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "vendors": [
            {"vendor_id": vendor_id, "inbound": inbound, "parser": {"column_map": MAP}}
            for vendor_id, inbound in inbounds.items()
        ],
        "pricing": {"base_margin_pct": 0.20},
    }


async def _ingest_state(database_url: str, tenant_id: str) -> dict[str, dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT vendor_id, status, error_code, attempts, last_attempt_at, last_success_at,"
            " next_due_at FROM ingest.vendor_pulls WHERE tenant_id = $1",
            tenant_id,
        )
    finally:
        await conn.close()
    return {r["vendor_id"]: dict(r) for r in rows}


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def test_the_pulls_endpoint_shows_each_vendors_last_attempt_outcome_and_next_time(
    gateway: Gateway, vendor: VendorHttps, isolated_bus: StackEndpoints, unique_id: str
) -> None:
    tenant = f"pulls-{unique_id}"
    owner = await create_tenant(gateway, tenant)
    viewer = await api_key(gateway, tenant, owner, "viewer")
    good, busy = f"/{unique_id}/good.csv", f"/{unique_id}/busy.csv"
    vendor.files[good] = FeedFile(FEED, '"g1"', token="tok-9")
    vendor.files[busy] = FeedFile(FEED, '"b1"', failures_left=100)
    inbounds: dict[str, dict[str, Any]] = {
        "busy": {"type": "https", "url": vendor.url(busy), "schedule": HOURLY},
        "good": {
            "type": "https",
            "url": vendor.url(good),
            "auth": {"type": "bearer", "token": "tok-9"},
            "schedule": HOURLY,
        },
    }
    put = await gateway.client.put(
        f"/v1/tenants/{tenant}/config", json=_config(tenant, inbounds), headers=auth(owner)
    )
    assert put.status == 201, await put.text()

    async def settled() -> dict[str, Any] | None:
        response = await gateway.client.get(f"/v1/tenants/{tenant}/pulls", headers=auth(viewer))
        body: dict[str, Any] = await response.json()
        statuses = [v["status"] for v in body.get("vendors", [])]
        return body if response.status == 200 and statuses == ["retrying", "ok"] else None

    body = await eventually(settled, deadline_s=30)
    ingest = await _ingest_state(isolated_bus.database_url, tenant)

    assert (body["tenant_id"], body["failed"]) == (tenant, 0)
    shown = {
        v["vendor_id"]: {
            "status": v["status"],
            "error_code": v["error_code"],
            "attempts": v["attempts"],
            "last_attempt_at": _time(v["last_attempt_at"]),
            "last_success_at": _time(v["last_success_at"]),
            "next_due_at": _time(v["next_due_at"]),
        }
        for v in body["vendors"]
    }
    assert shown == {vid: {k: r[k] for k in shown[vid]} for vid, r in ingest.items()}
    busy_shown, good_shown = body["vendors"]
    assert (busy_shown["kind"], busy_shown["error_code"], busy_shown["attempts"]) == (
        "https",
        "http_503",
        1,
    )
    assert busy_shown["error"] == "the vendor answered 503 Service Unavailable"
    assert (good_shown["error_code"], good_shown["error"], good_shown["attempts"]) == (
        None,
        None,
        0,
    )
    assert good_shown["last_success_at"] is not None

    del inbounds["busy"]
    put = await gateway.client.put(
        f"/v1/tenants/{tenant}/config", json=_config(tenant, inbounds), headers=auth(owner)
    )
    assert put.status == 201, await put.text()

    async def only_good() -> list[str] | None:
        response = await gateway.client.get(f"/v1/tenants/{tenant}/pulls", headers=auth(viewer))
        vendors = [v["vendor_id"] for v in (await response.json())["vendors"]]
        return vendors if vendors == ["good"] else None

    assert await eventually(only_good, deadline_s=30) == ["good"]
    anonymous = await gateway.client.get(f"/v1/tenants/{tenant}/pulls")
    assert anonymous.status == 401
