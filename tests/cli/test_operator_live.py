"""The operator CLI (`relay runs|feeds|config`) as a process against the real gateway
process, every service running on the embedded stack: an operator's whole flow (config,
uploads, a run watched to its end, listing), a failed run's exit code, refusals."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from tests.support.live_system import LiveSystem, live_system_on
from tests.support.pipeline_runs import V1, V2, tenant_config

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from relay_shared.storage import ObjectStore

CLI_TIMEOUT_S = 180.0
MERGED_HEADER = "sku,quantity_available,price,vendor_id,updated_at"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


async def relay(*args: str, url: str, key: str | None) -> Ran:
    """``python -m relay_cli ARGS`` with RELAY_URL / RELAY_API_KEY set (key None: unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env["RELAY_URL"] = url
    if key is not None:
        env["RELAY_API_KEY"] = key
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relay_cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


@pytest.fixture(scope="module")
def live_system(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSystem]:
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("operator")) as system:
        yield system


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    url: str
    owner_key: str
    files: Path

    async def relay(self, *args: str, key: str | None = None) -> Ran:
        return await relay(*args, url=self.url, key=key or self.owner_key)

    def write(self, name: str, body: bytes) -> Path:
        path = self.files / name
        path.write_bytes(body)
        return path


async def new_tenant(system: LiveSystem, files: Path, tenant_id: str) -> Tenant:
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, system.gateway_url, system.admin_key)
        owner_key = await admin.create_tenant(tenant_id, "Operator CLI test", ["amazon"])
    return Tenant(tenant_id, system.gateway_url, owner_key, files)


async def configured(tenant: Tenant, feeds: dict[str, bytes]) -> None:
    """Config v1 (two required vendors) pushed and each feed uploaded, by the CLI."""
    config = tenant.write("tenant.yaml", yaml.safe_dump(tenant_config(tenant.tenant_id)).encode())
    pushed = await tenant.relay("config", "push", tenant.tenant_id, str(config))
    assert (pushed.code, pushed.out) == (0, f"tenant {tenant.tenant_id} config version 1\n")
    for vendor_id, body in feeds.items():
        path = tenant.write(f"{vendor_id}.csv", body)
        uploaded = await tenant.relay("feeds", "upload", tenant.tenant_id, vendor_id, str(path))
        assert uploaded.code == 0, uploaded.err


@pytest.fixture
async def tenant(live_system: LiveSystem, tmp_path: Path, unique_id: str) -> Tenant:
    return await new_tenant(live_system, tmp_path, f"op_{unique_id}")


@dataclass(frozen=True)
class Watched:
    tenant: Tenant
    ran: Ran
    run_id: str


@pytest.fixture(scope="module")
async def watched(live_system: LiveSystem, tmp_path_factory: pytest.TempPathFactory) -> Watched:
    """One tenant's run started with ``--watch`` and followed to its end."""
    files = tmp_path_factory.mktemp("watched")
    tenant = await new_tenant(live_system, files, f"op_watch_{os.urandom(5).hex()}")
    await configured(tenant, {"v1": V1, "v2": V2})
    ran = await tenant.relay("runs", "start", tenant.tenant_id, "--watch", "--interval", "0.2")
    first = re.fullmatch(r"run (run_\S+) QUEUED \(config v1\)", ran.out.splitlines()[0])
    assert first is not None, ran
    return Watched(tenant, ran, first.group(1))


def summary_of(out: str, run_id: str) -> list[str]:
    """The transcript from the summary's first line on."""
    lines = out.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.startswith(f"run {run_id} ") and "(tenant" in line
    )
    return lines[start:]


def expected_summary(w: Watched, status: str, took: str) -> list[str]:
    t = w.tenant.tenant_id
    return [
        f"run {w.run_id} {status} in {took}s (tenant {t}, config v1, stage done)",
        "  vendor  status  rows  accepted  rejected  duplicates",
        "  v1      ok      2     2         0         0",
        "  v2      ok      4     3         1         0",
        "  merged rows 3, skus left out 0",
    ]


async def test_start_watch_follows_the_run_to_success(watched: Watched) -> None:
    ran, run_id = watched.ran, watched.run_id
    assert (ran.code, ran.err) == (0, "")
    lines = ran.out.splitlines()
    progress = [re.sub(r"^\[ *\d+\.\d\ds\] ", "", line) for line in lines if line.startswith("[")]
    assert progress[0] == "run QUEUED stage queued"
    assert progress[-3:] == [
        "run SUCCEEDED stage done",
        "vendor v1 ok, merged  rows 2  accepted 2  rejected 0  duplicates 0",
        "vendor v2 ok, merged  rows 4  accepted 3  rejected 1  duplicates 0",
    ]
    view = lines[len(progress) + 1 : len(progress) + 5]
    assert re.fullmatch(
        rf"run {run_id}  tenant {watched.tenant.tenant_id}  config v1  SUCCEEDED  \d+\.\ds",
        view[0],
    )
    full = "[" + "#" * 30 + "]"
    assert view[1:] == [
        f"stage  {full}  done (6/6)",
        f"v1     {full}  ok, merged  rows 2  accepted 2  rejected 0  duplicates 0",
        f"v2     {full}  ok, merged  rows 4  accepted 3  rejected 1  duplicates 0",
    ]
    summary = summary_of(ran.out, run_id)
    took = re.search(r" in (\d+\.\d\d)s ", summary[0])
    assert took is not None
    assert summary[:5] == expected_summary(watched, "SUCCEEDED", took.group(1))
    assert re.fullmatch(r"artifacts \(links valid until \S+\):", summary[5])
    assert [line.split()[0] for line in summary[6:]] == [
        "changes.csv", "merged_inventory.csv", "errors.json", "run_summary.json",
        "sku_history.csv", "vendors/v1.json", "vendors/v2.json",
    ]  # fmt: skip


async def test_the_artifact_links_download_the_merged_feed(watched: Watched) -> None:
    merged_line = next(
        line for line in summary_of(watched.ran.out, watched.run_id) if "merged_inventory" in line
    )
    _, size, unit, url = merged_line.split()
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body = await response.read()
    assert (response.status, unit, len(body)) == (200, "B", int(size))
    lines = body.decode().splitlines()
    assert lines[0] == MERGED_HEADER
    assert [line.split(",")[:4] for line in lines[1:]] == [
        ["A-1", "3", "10.80", "v2"],
        ["B-2", "4", "30.00", "v2"],
        ["C-3", "1", "6.00", "v2"],
    ]


async def test_watch_of_a_finished_run_prints_its_summary(watched: Watched) -> None:
    ran = await watched.tenant.relay("runs", "watch", watched.run_id)
    assert (ran.code, ran.err) == (0, "")
    progress = [line for line in ran.out.splitlines() if line.startswith("[")]
    assert [re.sub(r"^\[ *\d+\.\d\ds\] ", "", line) for line in progress] == [
        "run SUCCEEDED stage done",
        "vendor v1 ok, merged  rows 2  accepted 2  rejected 0  duplicates 0",
        "vendor v2 ok, merged  rows 4  accepted 3  rejected 1  duplicates 0",
    ]
    before = summary_of(watched.ran.out, watched.run_id)
    assert summary_of(ran.out, watched.run_id)[:5] == before[:5]


async def test_list_and_show(watched: Watched) -> None:
    t, run_id = watched.tenant, watched.run_id
    listed = await t.relay("runs", "list", "--tenant", t.tenant_id)
    assert (listed.code, listed.err) == (0, "")
    header, row = listed.out.splitlines()
    assert header.split() == [
        "RUN_ID",
        "STATUS",
        "STAGE",
        "REQUESTED_AT",
        "TOOK",
        "MERGED",
        "ERROR",
    ]
    cells = row.split()
    took = re.search(r" in (\d+\.\d\d)s ", summary_of(watched.ran.out, run_id)[0])
    assert took is not None
    assert cells[:3] + cells[4:] == [run_id, "SUCCEEDED", "done", f"{took.group(1)}s", "3", "-"]
    shown = await t.relay("runs", "show", run_id)
    assert (shown.code, shown.err) == (0, "")
    assert shown.out.splitlines()[:5] == summary_of(watched.ran.out, run_id)[:5]
    empty = await t.relay("runs", "list", "--status", "FAILED")
    assert (empty.code, empty.out) == (0, "no runs\n")


async def test_a_failed_run_exits_1_naming_its_error(tenant: Tenant) -> None:
    await configured(tenant, {"v1": b"SKU,QTY\nA-1,5\n", "v2": V2})
    ran = await tenant.relay("runs", "start", tenant.tenant_id, "--watch", "--interval", "0.2")
    assert (ran.code, ran.err) == (1, "")
    run_id = ran.out.split()[1]
    progress = [
        re.sub(r"^\[ *\d+\.\d\ds\] ", "", line)
        for line in ran.out.splitlines()
        if line.startswith("[")
    ]
    assert [line for line in progress if line.startswith("run ")][-1] == "run FAILED stage merge"
    assert "vendor v1 failed  rows 0  accepted 0  rejected 0  duplicates 0" in progress
    summary = summary_of(ran.out, run_id)
    took = re.search(r" in (\d+\.\d\d)s ", summary[0])
    assert took is not None
    report = f"tenants/{tenant.tenant_id}/reports/{run_id}/errors.json"
    assert summary[:5] == [
        f"run {run_id} FAILED in {took.group(1)}s (tenant {tenant.tenant_id}, config v1, "
        "stage merge)",
        "  vendor  status  rows  accepted  rejected  duplicates",
        "  v1      failed  0     0         0         0",
        "  v2      ok      4     3         1         0",
        "  error missing_column: vendor v1: a mapped column is not in the header: COST "
        f"(report {report})",
    ]
    assert re.fullmatch(r"artifacts \(links valid until \S+\):", summary[5])
    assert "errors.json" in [line.split()[0] for line in summary[6:]]


async def test_config_push_422_lists_problems_by_path(tenant: Tenant) -> None:
    config: dict[str, Any] = tenant_config(tenant.tenant_id)
    config["vendors"][1]["parser"]["format"] = "csvx"
    config["pricing"]["base_margin_pct"] = "lots"
    path = tenant.write("bad.yaml", yaml.safe_dump(config).encode())
    ran = await tenant.relay("config", "push", tenant.tenant_id, str(path))
    assert (ran.code, ran.out) == (3, "")
    assert ran.err == (
        "relay config push: the config is not valid (422 invalid_config)\n"
        "  vendors[1].parser.format: Input should be 'csv', 'xlsx', 'json' or 'jsonl'\n"
        "  pricing.base_margin_pct: Input should be a valid decimal\n"
    )


async def test_config_show_gives_back_what_was_pushed(tenant: Tenant) -> None:
    await configured(tenant, {})
    shown = await tenant.relay("config", "show", tenant.tenant_id)
    assert shown.code == 0
    first, rest = shown.out.split("\n", 1)
    assert first == f"# tenant {tenant.tenant_id}, config version 1"
    assert yaml.safe_load(rest) == tenant_config(tenant.tenant_id)
    as_json = await tenant.relay("config", "show", tenant.tenant_id, "--json")
    assert (as_json.code, json.loads(as_json.out)) == (0, tenant_config(tenant.tenant_id))


async def test_feeds_upload_streams_the_file_to_the_inbound_prefix(
    tenant: Tenant, object_store: ObjectStore
) -> None:
    await configured(tenant, {})
    path = tenant.write("stock.csv", V1)
    ran = await tenant.relay("feeds", "upload", tenant.tenant_id, "v1", str(path))
    assert ran.code == 0
    sha = hashlib.sha256(V1).hexdigest()
    first, second = ran.out.splitlines()
    assert first == f"uploaded stock.csv ({len(V1)} bytes, sha256 {sha})"
    found = re.fullmatch(
        rf"  to (tenants/{tenant.tenant_id}/inbound/v1/\d{{4}}/\d\d/\d\d/[^/]+/raw\.csv)", second
    )
    assert found is not None, second
    assert await object_store.get_bytes(found.group(1)) == V1
    unknown = await tenant.relay("feeds", "upload", tenant.tenant_id, "v9", str(path))
    assert (unknown.code, unknown.out) == (3, "")
    assert unknown.err == (
        "relay feeds upload: no such vendor in the current config (404 unknown_vendor)\n"
    )


async def test_a_bad_key_is_one_line_and_exit_4(tenant: Tenant) -> None:
    ran = await tenant.relay("runs", "list", key="rk_not_a_key")
    assert (ran.code, ran.out) == (4, "")
    assert ran.err == (
        "relay runs list: the gateway refused the API key (401 unauthorized: "
        "the API key is not valid)\n"
    )


async def test_a_key_without_the_role_is_one_line_and_exit_4(tenant: Tenant) -> None:
    async with aiohttp.ClientSession() as session:
        owner = GatewayClient(session, tenant.url, tenant.owner_key)
        created = await owner.request(
            "POST",
            f"/v1/tenants/{tenant.tenant_id}/api-keys",
            json_body={"roles": ["viewer"]},
            expect=(201,),
        )
    config = tenant.write("tenant.yaml", yaml.safe_dump(tenant_config(tenant.tenant_id)).encode())
    ran = await tenant.relay(
        "config", "push", tenant.tenant_id, str(config), key=created.body["api_key"]
    )
    assert (ran.code, ran.out) == (4, "")
    assert ran.err == (
        "relay config push: the API key may not do this "
        "(403 forbidden: this needs the owner role)\n"
    )
