"""The service path against ``relay local-run`` on the same feeds (not a test).

    uv run python tests/bench/bench_service_path.py [--rows 200000] [--repeat 3]

One embedded stack (NATS, Postgres, S3) and every service as its own process, as ``relay up``
runs them. The feeds are the catalogue-shaped ones of ``make bench`` (:mod:`bench_real_data`:
five vendors, their own headers, a 220k-row SKU map each, dirty rows, duplicates). Each round
makes a new tenant (so no feed is ``unchanged``), puts its config and maps, uploads the feeds
and times ``POST /v1/runs`` → SUCCEEDED; ``relay local-run`` (the venv's command) runs on the
same files between rounds, alternating. Medians of ``--repeat``. Then one more round in which
normalize is SIGKILLed as soon as the run reaches normalize and started again at once (as a
supervisor would): the run must still succeed, and its time is compared with the median.
Every run, service or local, starts once the services are idle: a run's downstream work
(sheets' workbooks, insights' rules) goes on after it has SUCCEEDED, and a local-run timed
meanwhile would share the cores with it (stop 23's 1.61× was measured that way).

Targets (issue 15): service run ≤ 1.3× local-run; killed run ≤ undisturbed median + 15 s.
Each service's peak RSS (VmHWM) is printed. Exit 1 when a run fails or a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_real_data import write_real_feeds  # type: ignore[import-not-found]
from service_stack import (  # type: ignore[import-not-found]
    BENCH_ENV,
    DATA,
    ROOT,
    follow_run,
    peak_rss_mb,
    running_services,
    seed_tenant,
    wait_until_idle,
)

from relay_cli.gateway_client import GatewayClient
from relay_cli.services import SERVICES
from relay_cli.stack import ServiceProcesses

SERVICE_TARGET = 1.3
KILL_MARGIN_S = 15.0


def _local_run(folder: Path, feeds: dict[str, Path]) -> float:
    command = [str(Path(sys.executable).parent / "relay"), "local-run"]
    command += ["--config", str(folder / "tenant.yaml")]
    for vendor_id, path in feeds.items():
        command += ["--feed", f"{vendor_id}={path}"]
    command += ["--out", str(folder / "out-local"), "--as-of", "2026-01-01T00:00:00Z"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=BENCH_ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


async def _service_run(
    gateway_url: str, admin_key: str, folder: Path, feeds: dict[str, Path],
    on_normalize: Callable[[], None] | None = None,
) -> float:  # fmt: skip
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, gateway_url, admin_key)
        tenant_id, owner = await seed_tenant(admin, folder, feeds)
        killed = False

        def watch(run: dict[str, Any]) -> None:
            nonlocal killed
            if on_normalize is not None and not killed and run["stage"] == "normalize":
                killed = True
                on_normalize()

        started = time.perf_counter()
        run = await owner.start_run(tenant_id)
        elapsed: float
        elapsed, _final = await follow_run(owner, run["run_id"], started, watch)
    return elapsed


def _rounds(args: argparse.Namespace, folder: Path, feeds: dict[str, Path]) -> bool:
    with running_services(args.keep_logs) as services:
        return _measured(services.processes, services.url, services.admin_key, folder, feeds, args)


def _measured(
    processes: ServiceProcesses, url: str, key: str, folder: Path, feeds: dict[str, Path],
    args: argparse.Namespace,
) -> bool:  # fmt: skip
    asyncio.run(_service_run(url, key, folder, feeds))  # warm-up: imports, pools, caches
    wait_until_idle()
    _local_run(folder, feeds)
    services, locals_ = [], []
    for number in range(args.repeat):
        services.append(asyncio.run(_service_run(url, key, folder, feeds)))
        downstream = wait_until_idle()  # each run is timed on an idle machine
        locals_.append(_local_run(folder, feeds))
        print(f"round {number + 1}: service {services[-1]:6.2f} s, "
              f"local-run {locals_[-1]:6.2f} s (downstream work went on "
              f"{downstream:.1f} s after the service run)", flush=True)  # fmt: skip

    def kill_normalize() -> None:
        processes.kill("normalize")
        processes.start("normalize")

    killed = asyncio.run(_service_run(url, key, folder, feeds, on_normalize=kill_normalize))
    peaks = {name: peak_rss_mb(processes.pid(name)) for name in SERVICES}
    return _verdict(statistics.median(services), statistics.median(locals_), killed, peaks)


def _verdict(service: float, local: float, killed: float, peaks: dict[str, float]) -> bool:
    ratio = service / local
    print(f"service run (median) {service:.2f} s; local-run (median) {local:.2f} s; "
          f"{ratio:.2f}× (target ≤ {SERVICE_TARGET}×)")  # fmt: skip
    print(f"normalize SIGKILLed mid-run: {killed:.2f} s, {killed - service:+.2f} s against the "
          f"median (target ≤ +{KILL_MARGIN_S:.0f} s)")  # fmt: skip
    print("peak RSS (MB): " + ", ".join(f"{name} {mb:.0f}" for name, mb in peaks.items())
          + " (normalize: since its restart)")  # fmt: skip
    return ratio <= SERVICE_TARGET and killed - service <= KILL_MARGIN_S


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows per vendor feed (×5)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep-logs", type=Path, default=None, help="copy the services' JSON logs here"
    )
    args = parser.parse_args()
    folder = DATA / f"service-real-{args.rows}"
    feeds = write_real_feeds(folder, args.rows)
    print(
        f"{len(feeds)} feeds × {args.rows:,} rows (catalogue-shaped, SKU maps) in {folder}",
        flush=True,
    )
    ok = _rounds(args, folder, feeds)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
