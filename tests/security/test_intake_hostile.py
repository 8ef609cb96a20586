"""Hostile intake against the whole system (every service as its own process), as a tenant
owner would configure it: vendor pulls that try to reach a private address by redirect, to
leave the SFTP root, or to hand over more than ``APP_MAX_UPLOAD_BYTES`` (a 50 GB
``Content-Length`` announced, refused before a byte is read; a stream with no length, refused
once past the limit; an SFTP file that size), and schedules that are no cron or fire every
second. Each is refused with a clear error: at config time (a 422 naming the path) or per vendor
at run time (``GET /v1/tenants/{id}/pulls``), while the other vendors and tenants go on.

Where else these are tested (not repeated here): the https cases one by one with two ingest
replicas in ``tests/ingest/test_vendor_pull_https.py`` (and the resolver refusing loopback
without ``APP_PULL_ALLOW_PRIVATE``), the sftp symlink escape and size limit in
``tests/ingest/test_vendor_pull_sftp.py``, a config path with ``..`` and a too-frequent vendor
schedule as a gateway 422 in ``tests/ingest/test_vendor_pull_config.py``, and every bad cron
string (6 fields, every minute, ``0,1 * * * *``, no such day...) with its message in
``tests/ingest/test_schedule_config.py``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from relay_shared.keys import inbound_prefix
from relay_shared.storage import ObjectStore
from tests.support.live_system import LiveSystem, live_system_on
from tests.support.vendor_servers import (
    FeedFile,
    VendorHttps,
    VendorSftp,
    self_signed_certificate,
    vendor_https,
    vendor_sftp,
)

pytestmark = pytest.mark.stack
LIMIT = 256 * 1024
FIFTY_GB = 50 * 1024**3
FEED = b"SKU,QTY,COST\nsku-1,3,10.00\n"
HOURLY = "0 * * * *"
USER, PASSWORD = "acme", "sftp-hostile-4"
MAP = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("hostile-tls"))


@pytest.fixture(scope="module")
def live_system(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    certificate: tuple[Path, Path],
) -> Iterator[LiveSystem]:
    """Ingest pulls due vendors every 0.2 s, trusts the test CA, may reach the local vendor
    servers (a redirect to another private host is refused even so), and stores nothing over
    ``LIMIT`` bytes."""
    env = {
        "APP_PULL_TICK_S": "0.2",
        "APP_PULL_RETRY_BASE_S": "30",
        "APP_PULL_CA_FILE": str(certificate[0]),
        "APP_PULL_ALLOW_PRIVATE": "true",
        "APP_MAX_UPLOAD_BYTES": str(LIMIT),
        "APP_OUTBOX_INTERVAL_S": "0.2",
    }
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("hostile-intake"), env) as system:
        yield system


@pytest.fixture(scope="module")
async def https(certificate: tuple[Path, Path]) -> AsyncIterator[VendorHttps]:
    async with vendor_https(*certificate) as served:
        yield served


@pytest.fixture(scope="module")
async def sftp(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[VendorSftp]:
    async with vendor_sftp(tmp_path_factory.mktemp("hostile-sftp"), USER, PASSWORD) as served:
        yield served


@pytest.fixture
async def admin(live_system: LiveSystem) -> AsyncIterator[GatewayClient]:
    async with aiohttp.ClientSession() as session:
        yield GatewayClient(session, live_system.gateway_url, live_system.admin_key)


def _config(tenant_id: str, inbounds: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    vendors = [
        {"vendor_id": vendor_id, "inbound": inbound, "parser": {"column_map": MAP}}
        for vendor_id, inbound in inbounds.items()
    ]
    return {
        "tenant_id": tenant_id,
        "vendors": vendors,
        "pricing": {"base_margin_pct": 0.2},
        **extra,
    }


def _sftp_inbound(server: VendorSftp, path: str) -> dict[str, Any]:
    return {
        "type": "sftp",
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "password": PASSWORD,
        "known_host_key": server.host_key_line,
        "path": path,
        "schedule": HOURLY,
    }


def _sftp_folder(server: VendorSftp, files: dict[str, bytes]) -> str:
    name = f"out-{uuid.uuid4().hex[:8]}"
    (server.root / name).mkdir()
    for file_name, body in files.items():
        (server.root / name / file_name).write_bytes(body)
    return f"/{name}"


async def _settled(owner: GatewayClient, tenant_id: str, vendors: int) -> dict[str, Any]:
    """The tenant's pulls once every vendor has an outcome (none pending or retrying)."""
    async with asyncio.timeout(60):
        while True:
            body: dict[str, Any] = (
                await owner.request("GET", f"/v1/tenants/{tenant_id}/pulls")
            ).body
            done = [v for v in body["vendors"] if v["status"] not in ("pending", "retrying")]
            if len(done) == vendors:
                return body
            await asyncio.sleep(0.1)


async def test_hostile_pulls_are_refused_per_vendor_and_other_vendors_and_tenants_go_on(
    admin: GatewayClient,
    https: VendorHttps,
    sftp: VendorSftp,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    tenant, bystander = f"hostile-{unique_id}", f"bystander-{unique_id}"
    paths = {name: f"/{unique_id}/{name}.csv" for name in ("good", "hop", "inner", "huge", "flood")}
    https.files[paths["good"]] = FeedFile(FEED, '"g"')
    https.files[paths["inner"]] = FeedFile(FEED, '"i"')
    https.files[paths["hop"]] = FeedFile(b"", "", redirect=https.url(paths["inner"], "127.0.0.1"))
    https.files[paths["huge"]] = FeedFile(b"SKU,QTY,COST\n" * 80, '"h"', announced=FIFTY_GB)
    https.files[paths["flood"]] = FeedFile(b"SKU,QTY,COST\n" + b"x" * (LIMIT * 4), '"f"')
    secret = _sftp_folder(sftp, {"feed.csv": b"SKU,QTY\nsecret,1\n"})
    folder = _sftp_folder(sftp, {"big.csv": b"x" * (LIMIT + 1)})
    os.symlink(f"..{secret}/feed.csv", sftp.root / folder[1:] / "link.csv")
    hourly = {"type": "https", "schedule": HOURLY}
    inbounds = {
        "good": {**hourly, "url": https.url(paths["good"])},
        "ssrf": {**hourly, "url": https.url(paths["hop"])},
        "huge": {**hourly, "url": https.url(paths["huge"])},
        "flood": {**hourly, "url": https.url(paths["flood"])},
        "escape": _sftp_inbound(sftp, f"{folder}/link.csv"),
        "sftp_big": _sftp_inbound(sftp, f"{folder}/big.csv"),
    }
    owners = {}
    for tenant_id, vendors in ((tenant, inbounds), (bystander, {"good": inbounds["good"]})):
        owners[tenant_id] = admin.as_key(await admin.create_tenant(tenant_id, tenant_id, []))
        await owners[tenant_id].request(
            "PUT", f"/v1/tenants/{tenant_id}/config", json_body=_config(tenant_id, vendors),
            expect=(201,),
        )  # fmt: skip
    hostile = await _settled(owners[tenant], tenant, len(inbounds))
    other = await _settled(owners[bystander], bystander, 1)

    outcomes = {v["vendor_id"]: (v["status"], v["error_code"]) for v in hostile["vendors"]}
    assert outcomes == {
        "escape": ("failed", "path_escape"),
        "flood": ("failed", "too_large"),
        "good": ("ok", None),
        "huge": ("failed", "too_large"),
        "sftp_big": ("failed", "too_large"),
        "ssrf": ("failed", "private_address"),
    }
    assert hostile["failed"] == 5
    assert [(v["vendor_id"], v["status"]) for v in other["vendors"]] == [("good", "ok")]
    assert https.requests_to(paths["inner"]) == []  # the private hop was never made
    assert len(https.requests_to(paths["huge"])) == 1  # refused at once, never retried
    for vendor_id in ("ssrf", "huge", "flood", "escape", "sftp_big"):
        assert await object_store.list_objects(inbound_prefix(tenant, vendor_id)) == []
    [stored] = await object_store.list_objects(inbound_prefix(tenant, "good"))
    assert await object_store.get_bytes(stored.key) == FEED


async def test_a_schedule_that_is_no_cron_or_fires_every_second_is_a_422_with_its_path(
    admin: GatewayClient, https: VendorHttps, unique_id: str
) -> None:
    tenant = f"cron-{unique_id}"
    owner = admin.as_key(await admin.create_tenant(tenant, tenant, []))
    url = https.url(f"/{unique_id}/feed.csv")
    config = _config(
        tenant,
        {
            "v1": {"type": "https", "url": url, "schedule": "every day at noon"},
            "v2": {"type": "https", "url": url, "schedule": "* * * * * *"},
        },
        schedule={"runs": "*/1 * * * *", "wait_for_vendors": ["v1"]},
    )
    answer = await owner.request(
        "PUT", f"/v1/tenants/{tenant}/config", json_body=config, expect=(422,)
    )
    configs = await owner.request("GET", f"/v1/tenants/{tenant}/pulls")

    cron = "must be a cron expression of 5 fields (minute hour day month weekday)"
    assert answer.body["error"]["details"]["problems"] == [
        {"path": "vendors[0].inbound.schedule", "message": f"{cron}, got 4"},
        {"path": "vendors[1].inbound.schedule", "message": f"{cron}, got 6"},
        {"path": "schedule.runs", "message": "runs more often than every 5 minutes"},
    ]
    assert configs.body["vendors"] == []
