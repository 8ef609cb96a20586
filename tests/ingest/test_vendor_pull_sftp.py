"""SFTP vendor pulls through the running ingest service (real JetStream, Postgres and S3) from
a real local SFTP server (asyncssh's): the files of a glob are pulled once each (an unchanged
file is not fetched again, a new one is), a server whose host key is not the configured one is
refused permanently before any credential is sent, and a path leaving its folder (a symlink) or
a file over the size limit is refused for its vendor while the other vendors go on."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.settings import IngestSettings
from relay_shared.keys import inbound_prefix
from relay_shared.storage import ObjectStore
from tests.support.jetstream import nats_client, wait_for_stream
from tests.support.running import running
from tests.support.vendor_pulls import (
    SECRET_KEY,
    configure,
    due_now,
    feeds_of,
    wait_feeds,
    wait_status,
)
from tests.support.vendor_servers import VendorSftp, other_host_key_line, vendor_sftp

pytestmark = pytest.mark.stack
STREAM = "PULLS_SFTP"
LIMIT = 128 * 1024
USER, PASSWORD = "acme", "sftp-plain-9"
EVERY_HOUR = "0 * * * *"


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[VendorSftp]:
    async with vendor_sftp(tmp_path_factory.mktemp("sftp-root"), USER, PASSWORD) as served:
        yield served


@pytest.fixture(scope="module")
async def bus(isolated_bus: StackEndpoints) -> AsyncIterator[Client]:
    """One ingest replica pulling every 0.1 s, nothing else."""
    settings = IngestSettings.from_env(
        isolated_bus.as_env(),
        nats_stream=STREAM,
        inbound_poll_s=0,
        schedule_tick_s=0,
        pull_tick_s=0.1,
        pull_retry_base_s=0.2,
        max_upload_bytes=LIMIT,
        secret_key=SECRET_KEY,
    )
    async with running([IngestApp(settings)]), nats_client(isolated_bus.nats_url) as client:
        await wait_for_stream(client, STREAM)
        yield client


def _inbound(server: VendorSftp, **fields: Any) -> dict[str, Any]:
    return {
        "type": "sftp",
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "password": PASSWORD,
        "known_host_key": server.host_key_line,
        "schedule": EVERY_HOUR,
        **fields,
    }


def _folder(server: VendorSftp, files: dict[str, bytes]) -> str:
    """A new folder under the server's root holding ``files``; its path as the server shows
    it."""
    name = f"out-{uuid.uuid4().hex[:8]}"
    (server.root / name).mkdir()
    for file_name, body in files.items():
        (server.root / name / file_name).write_bytes(body)
    return f"/{name}"


async def test_a_glob_pulls_each_new_file_once(
    bus: Client,
    server: VendorSftp,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    tenant_id, db = f"sftp-{unique_id}", isolated_bus.database_url
    folder = _folder(
        server, {"a.csv": b"SKU,QTY\na,1\n", "b.csv": b"SKU,QTY\nb,2\n", "x.txt": b"-"}
    )
    inbound = _inbound(server, glob=f"{folder}/*.csv")
    await configure(bus, object_store, STREAM, tenant_id, 1, {"v1": inbound})
    await wait_status(db, tenant_id, "v1", "ok")
    due = await due_now(db, tenant_id, "v1")
    await wait_status(db, tenant_id, "v1", "unchanged", after=due)
    (server.root / folder[1:] / "c.csv").write_bytes(b"SKU,QTY\nc,3\n")
    due = await due_now(db, tenant_id, "v1")
    await wait_status(db, tenant_id, "v1", "ok", after=due)
    feeds = await wait_feeds(bus, STREAM, tenant_id, 3)
    bodies = [await object_store.get_bytes(f["key"]) for f in feeds]

    assert sorted(bodies[:2]) == [b"SKU,QTY\na,1\n", b"SKU,QTY\nb,2\n"]
    assert bodies[2:] == [b"SKU,QTY\nc,3\n"]
    assert all(f["key"].startswith(inbound_prefix(tenant_id, "v1")) for f in feeds)
    assert [(f["vendor_id"], f["run_id"]) for f in feeds] == [("v1", None)] * 3


async def test_a_host_key_mismatch_is_refused_permanently_before_login(
    bus: Client,
    server: VendorSftp,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    tenant_id = f"hostkey-{unique_id}"
    folder = _folder(server, {"feed.csv": b"SKU,QTY\na,1\n"})
    logins_before = len(server.logins)
    inbound = _inbound(server, path=f"{folder}/feed.csv", known_host_key=other_host_key_line())
    await configure(bus, object_store, STREAM, tenant_id, 1, {"v1": inbound})
    status = await wait_status(isolated_bus.database_url, tenant_id, "v1", "failed")

    assert (status["error_code"], status["attempts"]) == ("host_key_mismatch", 0)
    assert len(server.logins) == logins_before
    assert await feeds_of(bus, STREAM, tenant_id) == []


async def test_an_escaping_path_or_a_large_file_is_refused_and_the_others_go_on(
    bus: Client,
    server: VendorSftp,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
) -> None:
    tenant_id, db = f"escape-{unique_id}", isolated_bus.database_url
    secret = _folder(server, {"feed.csv": b"SKU,QTY\nsecret,1\n"})
    folder = _folder(server, {"big.csv": b"x" * (LIMIT + 1), "ok.csv": b"SKU,QTY\nok,1\n"})
    os.symlink(f"..{secret}/feed.csv", server.root / folder[1:] / "link.csv")
    inbounds = {
        "escape": _inbound(server, path=f"{folder}/link.csv"),
        "big": _inbound(server, path=f"{folder}/big.csv"),
        "good": _inbound(server, path=f"{folder}/ok.csv"),
    }
    await configure(bus, object_store, STREAM, tenant_id, 1, inbounds)
    escape = await wait_status(db, tenant_id, "escape", "failed")
    big = await wait_status(db, tenant_id, "big", "failed")
    good = await wait_status(db, tenant_id, "good", "ok")
    feeds = await wait_feeds(bus, STREAM, tenant_id, 1)

    assert escape["error_code"] == "path_escape"
    assert big["error_code"] == "too_large"
    assert [(f["vendor_id"], f["key"]) for f in feeds] == [("good", good["last_key"])]
    assert await object_store.get_bytes(str(good["last_key"])) == b"SKU,QTY\nok,1\n"
    assert await object_store.list_objects(inbound_prefix(tenant_id, "escape")) == []
    assert await object_store.list_objects(inbound_prefix(tenant_id, "big")) == []


async def test_a_private_key_logs_in_with_that_key_and_no_password(
    bus: Client,
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
    unique_id: str,
    tmp_path: Path,
) -> None:
    """A server that takes only this key (password login off): the pull logs in with the
    configured key (the server sees its fingerprint) and stores the file."""
    tenant_id = f"sftp-key-{unique_id}"
    key = asyncssh.generate_private_key("ssh-ed25519")
    async with vendor_sftp(tmp_path, USER, f"unused-{unique_id}", authorized_key=key) as keyed:
        folder = _folder(keyed, {"feed.csv": b"SKU,QTY\nk,7\n"})
        inbound = _inbound(keyed, path=f"{folder}/feed.csv")
        del inbound["password"]
        inbound["private_key"] = key.export_private_key().decode()
        await configure(bus, object_store, STREAM, tenant_id, 1, {"v1": inbound})
        status = await wait_status(isolated_bus.database_url, tenant_id, "v1", "ok")
        [feed] = await wait_feeds(bus, STREAM, tenant_id, 1)

    # (asyncssh asks about a key once before and once with its signature)
    assert set(keyed.logins) == {f"{USER} key {key.get_fingerprint()}"}
    assert feed["key"] == status["last_key"]
    assert await object_store.get_bytes(feed["key"]) == b"SKU,QTY\nk,7\n"
