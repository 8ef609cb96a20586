"""HTTPS vendor pulls through the running ingest service (real JetStream, Postgres and S3)
from a real local HTTPS server with a self-signed certificate (trusted via
``APP_PULL_CA_FILE``): a pull announces one ``feed.received`` with the bytes stored in the
bucket, the next pull is a conditional GET answered 304 (no second feed), a 503 is retried, a
redirect to a private address and a feed over the size limit are refused per vendor while the
tenant's other vendors go on. Two replicas run: each due pull is made once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_ingest.adapters.https_source import _GuardedResolver
from relay_ingest.app import IngestApp
from relay_ingest.domain.pulls import PullFailure
from relay_ingest.settings import IngestSettings
from relay_shared import subjects
from relay_shared.keys import inbound_prefix
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, nats_client, wait_for_stream
from tests.support.running import running
from tests.support.vendor_pulls import (
    SECRET_KEY,
    configure,
    due_now,
    wait_feeds,
    wait_status,
)
from tests.support.vendor_servers import (
    FeedFile,
    VendorHttps,
    self_signed_certificate,
    vendor_https,
)

pytestmark = pytest.mark.stack
STREAM = "PULLS_HTTPS"
LIMIT = 256 * 1024
FEED = b"SKU,QTY,COST\nsku-1,3,10.00\nsku-2,0,5.50\n"
EVERY_HOUR = "0 * * * *"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
async def server(certificate: tuple[Path, Path]) -> AsyncIterator[VendorHttps]:
    async with vendor_https(*certificate) as served:
        yield served


@pytest.fixture(scope="module")
async def bus(
    isolated_bus: StackEndpoints, certificate: tuple[Path, Path]
) -> AsyncIterator[Client]:
    """Two ingest replicas pulling (each ticks every 0.1 s, retries after 0.2 s), nothing
    else: a due vendor is pulled by one of them (the exact request counts below)."""
    settings = IngestSettings.from_env(
        isolated_bus.as_env(),
        nats_stream=STREAM,
        inbound_poll_s=0,
        schedule_tick_s=0,
        pull_tick_s=0.1,
        pull_retry_base_s=0.2,
        pull_ca_file=str(certificate[0]),
        pull_allow_private=True,
        max_upload_bytes=LIMIT,
        secret_key=SECRET_KEY,
    )
    replicas = [IngestApp(settings), IngestApp(settings)]
    async with running(replicas), nats_client(isolated_bus.nats_url) as client:
        await wait_for_stream(client, STREAM)
        yield client


async def _feed(client: Client, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's feed.received events, once there is one."""
    events = await collect(
        client,
        STREAM,
        subjects.FEED_RECEIVED,
        until=lambda e: e["tenant_id"] == tenant_id,
        timeout=30.0,
    )
    return [e for e in events if e["tenant_id"] == tenant_id]


def _path() -> str:
    return f"/{uuid.uuid4().hex[:10]}/stock.csv"


async def test_a_pull_is_announced_once_and_an_unchanged_feed_is_a_304(
    bus: Client,
    server: VendorHttps,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    tenant_id, path, db = f"https-{unique_id}", _path(), isolated_bus.database_url
    server.files[path] = FeedFile(FEED, '"v1"', token="tok-plain-7")
    inbound = {
        "type": "https",
        "url": server.url(path),
        "auth": {"type": "bearer", "token": "tok-plain-7"},
        "schedule": EVERY_HOUR,
    }
    await configure(bus, object_store, STREAM, tenant_id, 1, {"v1": inbound})
    first = await wait_status(db, tenant_id, "v1", "ok")
    due = await due_now(db, tenant_id, "v1")
    second = await wait_status(db, tenant_id, "v1", "unchanged", after=due)
    server.files[path] = FeedFile(FEED + b"sku-3,1,1.00\n", '"v2"', token="tok-plain-7")
    due = await due_now(db, tenant_id, "v1")
    third = await wait_status(db, tenant_id, "v1", "ok", after=due)
    feeds = await wait_feeds(bus, STREAM, tenant_id, 2)
    requests = server.requests_to(path)

    assert [h.get("Authorization") for h in requests] == ["Bearer tok-plain-7"] * 3
    assert [h.get("If-None-Match") for h in requests] == [None, '"v1"', '"v1"']
    assert (first["etag"], second["etag"], third["etag"]) == ('"v1"', '"v1"', '"v2"')
    assert [(f["vendor_id"], f["run_id"], f["key"]) for f in feeds] == [
        ("v1", None, first["last_key"]),
        ("v1", None, third["last_key"]),
    ]
    assert str(first["last_key"]).startswith(inbound_prefix(tenant_id, "v1"))
    assert await object_store.get_bytes(str(first["last_key"])) == FEED
    assert await object_store.get_bytes(str(third["last_key"])) == FEED + b"sku-3,1,1.00\n"
    assert [f["size"] for f in feeds] == [len(FEED), len(FEED) + 13]


async def test_a_503_is_retried_until_the_feed_comes(
    bus: Client,
    server: VendorHttps,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    tenant_id, path = f"retry-{unique_id}", _path()
    server.files[path] = FeedFile(FEED, '"r1"', failures_left=2)
    inbound = {"type": "https", "url": server.url(path), "schedule": EVERY_HOUR}
    await configure(bus, object_store, STREAM, tenant_id, 1, {"v1": inbound})
    [feed] = await _feed(bus, tenant_id)
    status = await wait_status(isolated_bus.database_url, tenant_id, "v1", "ok")

    assert len(server.requests_to(path)) == 3  # 503, 503, 200
    assert (status["attempts"], status["error_code"]) == (0, None)
    assert await object_store.get_bytes(str(feed["key"])) == FEED


async def test_bad_pulls_are_refused_per_vendor_and_the_others_go_on(
    bus: Client,
    server: VendorHttps,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    tenant_id, db = f"bad-{unique_id}", isolated_bus.database_url
    good, moved, target, private, big = (_path() for _ in range(5))
    server.files[good] = FeedFile(FEED, '"g"')
    server.files[moved] = FeedFile(b"", "", redirect=server.url(good))  # same host: followed
    server.files[private] = FeedFile(b"", "", redirect=server.url(target, host="127.0.0.1"))
    server.files[target] = FeedFile(FEED, '"t"')
    server.files[big] = FeedFile(b"SKU,QTY,COST\n" + b"x" * (LIMIT * 4), '"b"')
    hourly = {"type": "https", "schedule": EVERY_HOUR}
    inbounds = {
        "moved": {**hourly, "url": server.url(moved)},
        "ssrf": {**hourly, "url": server.url(private)},
        "big": {**hourly, "url": server.url(big)},
    }
    await configure(bus, object_store, STREAM, tenant_id, 1, inbounds)
    ssrf = await wait_status(db, tenant_id, "ssrf", "failed")
    too_big = await wait_status(db, tenant_id, "big", "failed")
    ok = await wait_status(db, tenant_id, "moved", "ok")
    feeds = await wait_feeds(bus, STREAM, tenant_id, 1)

    assert (ssrf["error_code"], ssrf["last_key"]) == ("private_address", None)
    assert server.requests_to(target) == []
    assert (too_big["error_code"], too_big["last_key"]) == ("too_large", None)
    assert await object_store.list_objects(inbound_prefix(tenant_id, "big")) == []
    assert [(f["vendor_id"], f["key"]) for f in feeds] == [("moved", ok["last_key"])]
    assert await object_store.get_bytes(str(ok["last_key"])) == FEED


async def test_without_the_private_setting_a_loopback_host_is_refused() -> None:
    with pytest.raises(PullFailure) as refused:
        await _GuardedResolver(trusted=None).resolve("localhost", 443)
    allowed = await _GuardedResolver(trusted="localhost").resolve("localhost", 443)

    assert refused.value.code == "private_address"
    assert not refused.value.transient
    assert {a["host"] for a in allowed} <= {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    ("auth", "received"),
    [
        (
            {"type": "basic", "username": "acme", "password": "pa:ss-word-3"},
            {"Authorization": "Basic YWNtZTpwYTpzcy13b3JkLTM="},  # base64 "acme:pa:ss-word-3"
        ),
        (
            {"type": "header", "name": "X-Api-Key", "value": "key-plain-5"},
            {"X-Api-Key": "key-plain-5"},
        ),
    ],
    ids=["basic", "header"],
)
async def test_basic_and_header_auth_send_exactly_the_configured_credential(
    bus: Client,
    server: VendorHttps,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
    auth: dict[str, str],
    received: dict[str, str],
) -> None:
    """The server answers 401 without the credential; the pull stores the feed, and every
    request carried exactly the configured credential (opened from its sealed form)."""
    tenant_id, path = f"auth-{auth['type']}-{unique_id}", _path()
    server.files[path] = FeedFile(FEED, '"a1"', headers=received)
    inbound = {"type": "https", "url": server.url(path), "auth": auth, "schedule": EVERY_HOUR}
    await configure(bus, object_store, STREAM, tenant_id, 1, {"v1": inbound})
    status = await wait_status(isolated_bus.database_url, tenant_id, "v1", "ok")
    [feed] = await wait_feeds(bus, STREAM, tenant_id, 1)
    [request] = server.requests_to(path)

    assert {name: request.get(name) for name in received} == received
    other = "X-Api-Key" if auth["type"] == "basic" else "Authorization"
    assert other not in request
    assert feed["key"] == status["last_key"]
    assert await object_store.get_bytes(feed["key"]) == FEED
