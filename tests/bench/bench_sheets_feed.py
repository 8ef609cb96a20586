"""Benchmark of the sheets service on a long merged feed, per backend (not a test).

    uv run python -m tests.bench.bench_sheets_feed [--rows 1000000] [--listed 1000]
        [--backend both|xlsx|google] [--cold]

Starts a throwaway embedded stack (NATS, Postgres, S3), the fake Google (Google's quotas on)
and the sheets service as its own process (``python -m relay_cli serve sheets``, default
settings), for each backend in turn. A tenant with three channels (amazon, ebay, woot) gets
its folders and a first merged feed of ``--listed`` skus (each channel's Listings then list
them), then a merged feed of ``--rows`` rows (the listed skus among them, with new
quantities). Prints, per backend, the wall time from publishing that ``offers.merged`` to
sheets acking it, the sheets process's peak RSS (VmHWM) before and after, and checks the
cells: a feed past ``APP_XLSX_MAX_FEED_ROWS`` / ``APP_GOOGLE_MAX_FEED_ROWS`` (20,000 / 50,000)
is summarised, not written row by row (the root's Summary tab names the run and the row
count) and every listed sku's quantity is the new feed's allocation on every channel; a feed
that fits is in the Merged feed tab and every sku in each channel's Listings (``--listed 0
--rows 20000`` is the xlsx backend's worst case: every row appended to four workbooks).
``--cold`` restarts the sheets process between the two feeds (after a readiness probe, a
second ``tenant.configured``, is consumed), so the long feed finds no workbook loaded in memory
(the xlsx backend keeps them between flushes: ``relay_sheets.adapters.workbook_cache``).
Targets: ≤ 60 s and < 1 GB per backend. Exit 1 when a target is missed or a cell is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from openpyxl import load_workbook
from tests.support.jetstream import nats_client, publish, wait_consumed, wait_for_stream

from relay_cli.stack import EmbeddedStack, StackEndpoints
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import OffersMerged, TenantConfigured
from relay_shared.runtime import s3_settings
from relay_shared.settings import CommonSettings
from relay_shared.storage import open_object_store
from relay_shared.telemetry import configure_telemetry
from relay_sheets.devfake.google import FakeGoogle, fake_google
from relay_sheets.devfake.model import GoogleError
from relay_sheets.settings import SheetsSettings

STREAM = "RELAY"
NAME = "Northwind Outdoor"
CHANNELS = {"amazon": (100, 2), "ebay": (50, 0), "woot": (30, 1)}  # share %, buffer
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WALL_TARGET_S = 60.0
RSS_TARGET_MB = 1024.0
HEADER = "sku,quantity_available,price,title,vendor_id,updated_at\n"


def feed(rows: int, quantity: int) -> bytes:
    lines = [HEADER]
    for n in range(rows):
        lines.append(f"SKU-{n:07d},{quantity + n % 7},{9 + n % 170}.99,Item {n},vendor_{n % 5},\n")
    return "".join(lines).encode()


def allocated(quantity: int, share_pct: int, buffer: int) -> int:
    return max(0, quantity * share_pct // 100 - buffer)


def config(tenant: str, backend: str, drive_id: str) -> dict[str, Any]:
    sheets: dict[str, Any] = {"backend": backend}
    if backend == "google":
        sheets["google"] = {"shared_drive_id": drive_id, "share_with": ["ops@example.com"]}
    channels = {
        name: {"allocation": {"share_pct": share, "buffer": buffer}}
        for name, (share, buffer) in CHANNELS.items()
    }
    return {
        "tenant_id": tenant,
        "vendors": [
            {
                "vendor_id": "v1",
                "parser": {"column_map": {"sku": "SKU", "quantity_available": "QTY"}},
            }
        ],
        "pricing": {"base_margin_pct": 0.2},
        "output": {
            "columns": ["sku", "quantity_available", "price", "title", "vendor_id", "updated_at"]
        },
        "channels": channels,
        "sheets": sheets,
    }


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def service_process(
    service: str, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``relay serve <service>`` as its own process, its log in ``log``; stopped on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "relay_cli", "serve", service], env=env, stderr=out
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def configure(client: Client, tenant: str, tag: str) -> None:
    """A ``tenant.configured`` (its folders), consumed: sheets is up and consuming."""
    configured = TenantConfigured(
        event_id=f"tenant.configured:{tenant}:{tag}",
        occurred_at=T0,
        tenant_id=tenant,
        correlation_id="bench",
        name=NAME,
        channels=list(CHANNELS),
        config_version=1,
    )
    seq = await publish(client, STREAM, configured)
    await wait_consumed(client, STREAM, "sheets-tenant-configured", seq, wait_s=120)


def merged_event(tenant: str, run_id: str, key: str, rows: int, at: datetime) -> OffersMerged:
    return OffersMerged(
        event_id=f"offers.merged:{tenant}:{run_id}",
        occurred_at=at,
        tenant_id=tenant,
        correlation_id="bench",
        run_id=run_id,
        config_version=1,
        merged_key=key,
        summary_key=f"tenants/{tenant}/reports/{run_id}/s.json",
        errors_key=f"tenants/{tenant}/reports/{run_id}/e.json",
        merged_rows=rows,
        skus_left_out=0,
        vendors={},
    )


@dataclass(frozen=True)
class Figures:
    backend: str
    wall_s: float
    rss_before_mb: float
    rss_peak_mb: float
    problems: list[str]


async def measure(
    backend: str, args: argparse.Namespace, endpoints: StackEndpoints, root: Path
) -> Figures:
    async with fake_google() as fake, nats_client(endpoints.nats_url) as client:
        drive = fake.add_shared_drive("Merchant drive")
        tenant = f"bench-{backend}"
        state = root / f"state-{backend}"
        env = {
            **os.environ,
            **endpoints.as_env(),
            "APP_NATS_STREAM": STREAM,
            "APP_STATE_DIR": str(state),
            "APP_SERVICE_ACCOUNT_FILE": str(fake.write_service_account(root / "sa.json")),
            "APP_GOOGLE_API_URL": fake.url,
        }
        settings = CommonSettings.from_env(env)
        async with open_object_store(s3_settings(settings)) as store:
            await store.ensure_bucket()
            await TenantConfigStore(store).save(tenant, 1, config(tenant, backend, drive))
            small_key = f"tenants/{tenant}/outputs/run-1/merged_inventory.csv"
            long_key = f"tenants/{tenant}/outputs/run-2/merged_inventory.csv"
            await store.put_bytes(small_key, feed(args.listed, 10))
            await store.put_bytes(long_key, feed(args.rows, 500))
        with contextlib.ExitStack() as running:
            log = root / f"sheets-{backend}.log"
            process = running.enter_context(service_process("sheets", env, log))
            await wait_for_stream(client, STREAM, timeout=120)
            await configure(client, tenant, f"{backend}")
            first = merged_event(tenant, "run-1", small_key, args.listed, T0)
            seq = await publish(client, STREAM, first)
            await wait_consumed(client, STREAM, "sheets-offers-merged", seq, wait_s=300)
            if args.cold:
                running.close()
                cold_log = root / f"sheets-{backend}-cold.log"
                process = running.enter_context(service_process("sheets", env, cold_log))
                await configure(client, tenant, f"{backend}-cold")
            before = peak_rss_mb(process.pid)
            started = time.monotonic()
            seq = await publish(
                client, STREAM, merged_event(tenant, "run-2", long_key, args.rows, T0)
            )
            await wait_consumed(client, STREAM, "sheets-offers-merged", seq, wait_s=600)
            wall = time.monotonic() - started
            peak = peak_rss_mb(process.pid)
        try:
            limits = SheetsSettings.from_env(env)
            limit = limits.xlsx_max_feed_rows if backend == "xlsx" else limits.google_max_feed_rows
            problems = check(tenant, backend, args, fake, state / "sheets", limit)
        except (OSError, KeyError, StopIteration, GoogleError) as exc:
            log = (root / f"sheets-{backend}.log").read_text(errors="replace").splitlines()
            errors = [line for line in log if '"error"' in line or '"warning"' in line]
            problems = [f"cells not found ({exc!r}); sheets log: {errors[-3:]}"]
    return Figures(backend, wall, before, peak, problems)


def check(
    tenant: str, backend: str, args: argparse.Namespace, fake: FakeGoogle, root: Path, limit: int
) -> list[str]:
    """A feed past ``limit``: the Summary tab, listed skus updated, none appended. A feed
    that fits: the Merged feed tab holds it and Listings hold every sku."""
    problems = []
    fits = args.rows <= limit
    if fits:
        merged = cells(tenant, backend, fake, root, None, "Merged feed", "Merged feed")
        if len(merged) - 1 != args.rows:
            problems.append(f"Merged feed tab: {len(merged) - 1} rows")
    else:
        summary = dict(
            map(tuple, cells(tenant, backend, fake, root, None, "Merged feed", "Summary")[1:])
        )
        if summary.get("rows") != args.rows or summary.get("run_id") != "run-2":
            problems.append(f"Summary tab: {summary}")
    listed = max(args.listed, args.rows) if fits else args.listed
    for channel, (share, buffer) in CHANNELS.items():
        title = f"Inventory – {channel}"
        listings = cells(tenant, backend, fake, root, channel, title, "Listings")[1:]
        want = [
            allocated((500 if n < args.rows else 10) + n % 7, share, buffer) for n in range(listed)
        ]
        got = [row[2] for row in listings]
        if got != want:
            problems.append(
                f"{channel}: {len(listings)} Listings rows, quantities not the new ones"
            )
    return problems


def cells(
    tenant: str,
    backend: str,
    fake: FakeGoogle,
    root: Path,
    channel: str | None,
    title: str,
    tab: str,
) -> list[list[Any]]:
    if backend == "xlsx":
        folder = root / tenant / channel if channel else root / tenant
        workbook = load_workbook(folder / f"{title}.xlsx", read_only=True)
        try:
            return [list(row) for row in workbook[tab].iter_rows(values_only=True)]
        finally:
            workbook.close()
    parent = next(f.id for f in fake.files.values() if f.name == f"Relay – {NAME}")
    if channel:
        parent = next(f.id for f in fake.children(parent) if f.name == channel)
    book = next(f.id for f in fake.children(parent) if f.name == title)
    return fake.values(book, tab)


async def run(args: argparse.Namespace, root: Path) -> int:
    backends = ["xlsx", "google"] if args.backend == "both" else [args.backend]
    results = []
    with EmbeddedStack(root / "stack", env=os.environ) as stack:
        for backend in backends:
            results.append(await measure(backend, args, stack.endpoints, root))
    targets = f"targets ≤ {WALL_TARGET_S:.0f} s, < {RSS_TARGET_MB:.0f} MB"
    start = ", sheets restarted before it (cold)" if args.cold else ""
    print(f"sheets on a merged feed of {args.rows:,} rows, {len(CHANNELS)} channels listing "
          f"{args.listed:,} skus each{start} ({targets}):")  # fmt: skip
    failed = False
    for f in results:
        ok = f.wall_s <= WALL_TARGET_S and f.rss_peak_mb < RSS_TARGET_MB and not f.problems
        failed = failed or not ok
        print(f"  {f.backend:<6}  wall {f.wall_s:6.2f} s  peak RSS {f.rss_peak_mb:7.1f} MB "
              f"(before the feed {f.rss_before_mb:.1f} MB)  {'PASS' if ok else 'FAIL'}"
              + (f"  {'; '.join(f.problems)}" if f.problems else ""))  # fmt: skip
    print("result: " + ("FAIL (exit 1)" if failed else "PASS"))
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--listed", type=int, default=1_000)
    parser.add_argument("--backend", choices=("both", "xlsx", "google"), default="both")
    parser.add_argument("--cold", action="store_true", help="restart sheets before the feed")
    args = parser.parse_args()
    configure_telemetry("bench", "WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-sheets-feed-") as folder:
        sys.exit(asyncio.run(run(args, Path(folder))))


if __name__ == "__main__":
    main()
