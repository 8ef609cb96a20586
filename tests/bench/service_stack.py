"""The embedded stack and the tenants of the service benchmarks (not a test):
:mod:`bench_service_path` and :mod:`bench_preview`.

One embedded stack (NATS, Postgres, S3) and every service as its own process, as ``relay up``
runs them; a bench tenant is the catalogue-shaped feeds of :mod:`bench_real_data` (its config,
its five SKU maps, its five feeds uploaded), under a new id each time (so no feed is
``unchanged`` against another tenant's).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_real_data import VENDORS  # type: ignore[import-not-found]

from relay_cli.gateway_client import GatewayClient
from relay_cli.services import SERVICES
from relay_cli.stack import EmbeddedStack, ServiceProcesses, free_port, wait_for_http_ok
from relay_cli.stack.environment import service_env

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench-out"
#: The environment of the services and of ``relay local-run`` (bytecode written, as installed).
BENCH_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
RUN_TIMEOUT_S = 900


@dataclass(frozen=True)
class RunningServices:
    processes: ServiceProcesses
    url: str
    admin_key: str


def bench_env() -> dict[str, str]:
    return {
        **BENCH_ENV,
        "APP_BOOTSTRAP_ADMIN_KEY": "rk_bench_" + secrets.token_hex(16),
        "APP_SECRET_KEY": secrets.token_hex(32),
        "APP_WEBHOOK_SECRETS": secrets.token_hex(16),
    }


def service_processes(
    stack: EmbeddedStack, state_dir: Path, env: Mapping[str, str], port: int
) -> ServiceProcesses:
    def env_for(name: str) -> Mapping[str, str]:
        return service_env(
            name, stack.endpoints, state_dir=state_dir, parent_env=env, http_port=port
        )

    return ServiceProcesses(env_for, state_dir / "logs")


@contextmanager
def running_services(keep_logs: Path | None = None) -> Iterator[RunningServices]:
    """The stack and every service, ready (the gateway answers ``/v1/ready``); the services'
    JSON logs are copied to ``keep_logs`` at the end when it is given."""
    env = bench_env()
    state_dir = Path(tempfile.mkdtemp(prefix="relay-bench-service-"))
    port = free_port()
    try:
        with (
            EmbeddedStack(state_dir, env=env) as stack,
            service_processes(stack, state_dir, env, port) as processes,
        ):
            processes.start_all(SERVICES)
            url = f"http://127.0.0.1:{port}"
            wait_for_http_ok(f"{url}/v1/ready", timeout=120.0)
            yield RunningServices(processes, url, env["APP_BOOTSTRAP_ADMIN_KEY"])
    finally:
        if keep_logs is not None:
            shutil.copytree(state_dir / "logs", keep_logs, dirs_exist_ok=True)
        shutil.rmtree(state_dir, ignore_errors=True)


async def seed_tenant(
    admin: GatewayClient, folder: Path, feeds: Mapping[str, Path]
) -> tuple[str, GatewayClient]:
    """A new bench tenant with ``folder``'s config and maps and ``feeds`` uploaded: its id and
    its owner's client."""
    tenant_id = f"bench_{secrets.token_hex(4)}"
    config = (folder / "tenant.yaml").read_text("utf-8")
    owner = admin.as_key(await admin.create_tenant(tenant_id, "Service path", ["amazon"]))
    await owner.put_config(tenant_id, tenant_config(config, tenant_id))
    for shape in VENDORS:
        map_bytes = (folder / "maps" / f"{shape.vendor_id}.csv").read_bytes()
        await owner.put_sku_map(tenant_id, shape.vendor_id, map_bytes)
    for vendor_id, path in feeds.items():
        await owner.upload_feed(tenant_id, vendor_id, path.read_bytes(), "text/csv")
    return tenant_id, owner


def tenant_config(config: str, tenant_id: str) -> str:
    """The bench config (:func:`bench_real_data.config_text`) as ``tenant_id``'s."""
    return config.replace("tenant_id: bench", f"tenant_id: {tenant_id}")


async def follow_run(
    owner: GatewayClient,
    run_id: str,
    started: float,
    on_change: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[float, dict[str, Any]]:
    """Seconds from ``started`` (``time.perf_counter``) to the run's end, and the run as it
    ended; its stages are printed. Raises when it did not succeed."""
    stages: list[tuple[float, str]] = []

    def watch(run: dict[str, Any]) -> None:
        stages.append((time.perf_counter(), f"{run['status']}/{run['stage']}"))
        if on_change is not None:
            on_change(run)

    async with asyncio.timeout(RUN_TIMEOUT_S):
        final = await owner.wait_for_run(run_id, on_change=watch)
    elapsed = time.perf_counter() - started
    print("  stages: " + ", ".join(f"{name} at {at - started:.1f} s" for at, name in stages))
    if final["status"] != "SUCCEEDED":
        raise RuntimeError(f"run {run_id} {final['status']}: {final.get('error')}")
    return elapsed, final


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, every thread) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def services_cpu(processes: ServiceProcesses) -> dict[str, float]:
    """:func:`cpu_seconds` of every service, by name."""
    return {name: cpu_seconds(processes.pid(name)) for name in SERVICES}


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every core; ``/proc/stat``)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(*, window_s: float = 0.5, idle_cores: float = 0.15) -> float:
    """Waits until the machine (services, Postgres, NATS, moto) uses less than ``idle_cores``
    over a ``window_s`` window: a run's downstream work (sheets' workbooks, insights' rules in
    Postgres) goes on after the run has SUCCEEDED, and a ``relay local-run`` timed meanwhile
    would share the cores with it. Returns the seconds waited; raises after
    :data:`RUN_TIMEOUT_S`."""
    started = time.perf_counter()
    before = busy_cpu_seconds()
    while time.perf_counter() - started < RUN_TIMEOUT_S:
        time.sleep(window_s)
        now = busy_cpu_seconds()
        if now - before < idle_cores * window_s:
            return time.perf_counter() - started
        before = now
    raise RuntimeError(f"the machine was still busy after {RUN_TIMEOUT_S} s")
