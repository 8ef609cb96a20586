"""A config preview against the run it previews, on the service path (not a test).

    uv run python tests/bench/bench_preview.py [--rows 1000000] [--repeat 3]

One embedded stack and every service as its own process (:mod:`service_stack`, as
:mod:`bench_service_path`). The feeds are the catalogue-shaped ones of ``make bench``
(:mod:`bench_real_data`: five vendors, SKU maps, dirty rows), ``--rows`` in all (a fifth per
vendor). Each round makes a new tenant, uploads the feeds, times a run (``POST /v1/runs`` →
SUCCEEDED), then a preview of the same config with another margin
(``POST /v1/tenants/{id}/config/preview`` → the preview run SUCCEEDED → ``GET
…/previews/{id}`` with its diff): the same engine on the tenant's latest feeds, diffed against
that run. Then, for comparison only, the same run again: its feeds are unchanged, so
normalize reuses their rows as it does for the preview (the first run normalized them), and it
diffs against the first run too (changes.csv). One warm-up round first (imports, pools,
caches); medians of ``--repeat``.

Target (issue 16): a preview within 1.3× of the run's own time. Exit 1 when a run or a
preview fails, or the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_real_data import write_real_feeds  # type: ignore[import-not-found]
from service_stack import (  # type: ignore[import-not-found]
    DATA,
    RunningServices,
    follow_run,
    running_services,
    seed_tenant,
    services_cpu,
    tenant_config,
)

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import ServiceProcesses

TARGET = 1.3
MARGIN, PREVIEW_MARGIN = "base_margin_pct: 0.20", "base_margin_pct: 0.25"


@dataclass(frozen=True)
class Phase:
    """One run's (or preview's) wall seconds and the CPU seconds each service used meanwhile."""

    wall_s: float
    cpu_s: dict[str, float]

    def cpu_text(self) -> str:
        busy = sorted(self.cpu_s.items(), key=lambda item: -item[1])[:2]
        parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in busy)
        return f"{sum(self.cpu_s.values()):.1f} s CPU ({parts})"


@dataclass(frozen=True)
class Round:
    run: Phase
    preview: Phase
    rerun: Phase
    diff: dict[str, Any]

    @property
    def ratio(self) -> float:
        return self.preview.wall_s / self.run.wall_s


async def _round(services: RunningServices, folder: Path, feeds: dict[str, Path]) -> Round:
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, services.url, services.admin_key)
        tenant_id, owner = await seed_tenant(admin, folder, feeds)
        config = tenant_config((folder / "tenant.yaml").read_text("utf-8"), tenant_id)
        if MARGIN not in config:
            raise RuntimeError(f"{folder / 'tenant.yaml'}: no '{MARGIN}' to change")
        clock = _Clock(services.processes)
        run = await owner.start_run(tenant_id)
        await follow_run(owner, run["run_id"], clock.started)
        run_phase = clock.phase()
        preview = await _preview(owner, tenant_id, config.replace(MARGIN, PREVIEW_MARGIN))
        await follow_run(owner, preview, clock.started)
        answer = (await owner.request("GET", f"/v1/tenants/{tenant_id}/previews/{preview}")).body
        preview_phase = clock.phase()
        rerun = await owner.start_run(tenant_id)
        await follow_run(owner, rerun["run_id"], clock.started)
        rerun_phase = clock.phase()
    if answer["status"] != "SUCCEEDED" or answer["diff"] is None:
        raise RuntimeError(f"preview {preview}: {answer['status']}, diff {answer['diff']}")
    if answer["base_run_id"] != run["run_id"]:
        raise RuntimeError(f"preview {preview} diffed against {answer['base_run_id']}")
    return Round(run_phase, preview_phase, rerun_phase, answer["diff"])


class _Clock:
    """Wall and per-service CPU time from the last :meth:`phase` (or the start)."""

    def __init__(self, processes: ServiceProcesses) -> None:
        self._processes = processes
        self.started, self._cpu = time.perf_counter(), services_cpu(processes)

    def phase(self) -> Phase:
        now, cpu = time.perf_counter(), services_cpu(self._processes)
        used = {name: cpu[name] - self._cpu[name] for name in cpu}
        phase = Phase(now - self.started, used)
        self.started, self._cpu = time.perf_counter(), services_cpu(self._processes)
        return phase


async def _preview(owner: GatewayClient, tenant_id: str, config: str) -> str:
    """Starts a preview of ``config``; its id (a run id)."""
    response = await owner.request(
        "POST",
        f"/v1/tenants/{tenant_id}/config/preview",
        data=config.encode(),
        headers={"Content-Type": "application/yaml"},
        expect=(202,),
    )
    preview_id: str = response.body["preview_id"]
    return preview_id


def _measured(args: argparse.Namespace, folder: Path, feeds: dict[str, Path]) -> list[Round]:
    with running_services(args.keep_logs) as services:
        asyncio.run(_round(services, folder, feeds))  # warm-up
        rounds = []
        for number in range(args.repeat):
            rounds.append(asyncio.run(_round(services, folder, feeds)))
            last = rounds[-1]
            print(
                f"round {number + 1}: run {last.run.wall_s:6.2f} s, {last.run.cpu_text()};"
                f" preview {last.preview.wall_s:6.2f} s ({last.ratio:.2f}×),"
                f" {last.preview.cpu_text()}; re-run {last.rerun.wall_s:6.2f} s,"
                f" {last.rerun.cpu_text()}; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        return rounds


def _verdict(rounds: list[Round]) -> bool:
    def median(pick: Callable[[Round], float]) -> float:
        return statistics.median(pick(r) for r in rounds)

    diff = rounds[-1].diff
    print(
        f"preview's diff: {diff['rows_before']:,} → {diff['rows_after']:,} rows,"
        f" {diff['changed']:,} changed, {diff['price_changes']['count']:,} prices changed"
    )
    run, preview = median(lambda r: r.run.wall_s), median(lambda r: r.preview.wall_s)
    ratio = preview / run
    print(
        f"run (median) {run:.2f} s; preview (median) {preview:.2f} s; {ratio:.2f}×"
        f" (target ≤ {TARGET}×)"
    )
    rerun = median(lambda r: r.rerun.wall_s)
    pricing = [
        median(lambda r: r.run.cpu_s["pricing"]),
        median(lambda r: r.preview.cpu_s["pricing"]),
        median(lambda r: r.rerun.cpu_s["pricing"]),
    ]
    print(
        f"re-run of unchanged feeds (median) {rerun:.2f} s: the preview is"
        f" {preview / rerun:.2f}× of it (for comparison, not a target); pricing's CPU (median):"
        f" run {pricing[0]:.1f} s, preview {pricing[1]:.1f} s, re-run {pricing[2]:.1f} s"
    )
    return ratio <= TARGET


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows in all (a fifth per vendor feed)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep-logs", type=Path, default=None, help="copy the services' JSON logs here"
    )
    args = parser.parse_args()
    per_vendor = args.rows // 5
    folder = DATA / f"service-real-{per_vendor}"
    feeds = write_real_feeds(folder, per_vendor)
    print(
        f"{len(feeds)} feeds × {per_vendor:,} rows (catalogue-shaped, SKU maps) in {folder};"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    ok = _verdict(_measured(args, folder, feeds))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
