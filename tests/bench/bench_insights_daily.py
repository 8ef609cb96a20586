"""Benchmark of insights' daily evaluation (not a test).

    uv run python tests/bench/bench_insights_daily.py [--products 100000] [--channels 3]

Starts a throwaway embedded stack (NATS, Postgres, S3) and the insights service as its own
process (``relay serve insights``) with a movable clock (``APP_CLOCK_OFFSET_FILE``). One
tenant gets ``--channels`` channels × ``--products`` listings, imported the way the gateway
does (canonical CSV in S3 + ``listings.imported``): a catalogue of furniture and kitchenware
titles, listing dates spread over 400 days, 12 % out of stock, some paused or delisted, 80 %
of the skus on every channel. Past sales are seeded straight into the service's products
(``last_sold_at`` of about a third of them, within the last 60 days): replaying a year of
orders through the bus would only slow the set-up. The service is then restarted (so its peak
RSS counts the evaluation, not the import) and the clock moved 1 day (the day after the
seeded sales: many insights change), 1 more (a quiet day) and 30 more (a month later: many
insights open, resolve and are summarised).

Prints, per evaluated day: products evaluated, insights opened / resolved, the evaluation's
seconds (the service's own ``daily.evaluated`` figure), the wall time from the clock moving
to the evaluation stored, and the insights process's peak RSS (VmHWM). Targets: < 10 s and
< 500 MB. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from relay_cli.bus_watch import nats_client
from relay_cli.stack import EmbeddedStack, ServiceProcesses, StackEndpoints
from relay_shared import subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import ListingsImported, TenantConfigured
from relay_shared.listings import Listing, Listings, canonical_csv, listings_key
from relay_shared.storage import S3Settings, open_object_store

SECONDS_TARGET = 10.0
RSS_TARGET_MB = 500.0
STREAM = "RELAY"
TENANT = "bench-daily"
CHANNELS = ("amazon", "ebay", "woot", "shopify", "etsy")
ADJECTIVES = ("Oak", "Walnut", "Brushed Steel", "Linen", "Ceramic", "Rattan", "Velvet", "Glass")
NOUNS = (
    "Side Table",
    "Floor Lamp",
    "Dutch Oven",
    "Throw Pillow",
    "Bar Stool",
    "Kettle",
    "Bookshelf",
    "Serving Bowl",
    "Wall Mirror",
    "Rug",
)
SIZES = ("Small", "Medium", "Large", "Set of 2", "Set of 4", "XL")


@dataclass
class Figures:
    label: str
    products: int
    opened: int
    resolved: int
    seconds: float
    wall_s: float
    peak_rss_mb: float


def catalogue(products: int, channels: tuple[str, ...], today: date) -> dict[str, list[Listing]]:
    """Each channel's listings: 80 % of the skus shared by every channel, the rest its own."""
    rng = random.Random(11)
    shared = int(products * 0.8)
    listings: dict[str, list[Listing]] = {}
    for number, channel in enumerate(channels):
        items = []
        for index in range(products):
            sku = f"SKU-{index:07d}" if index < shared else f"{channel[:2].upper()}-{index:07d}"
            title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}, {rng.choice(SIZES)}"
            quantity = 0 if rng.random() < 0.12 else max(1, int(rng.lognormvariate(2.3, 1.0)))
            roll = rng.random()
            status = "delisted" if roll < 0.03 else "paused" if roll < 0.10 else "active"
            listed = today - timedelta(days=rng.randint(0, 400) + number)
            items.append(Listing(sku, title, quantity, status, listed))  # type: ignore[arg-type]
        listings[channel] = items
    return listings


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def logged(log: Path, event: str) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    found = []
    for line in log.read_text("utf-8", errors="replace").splitlines():
        if f'"{event}"' in line and "{" in line:
            try:
                found.append(json.loads(line[line.index("{") :]))
            except ValueError:
                continue
    return found


async def wait_for(probe: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise TimeoutError(f"waited {timeout}s for {what}")


class Bench:
    def __init__(
        self, endpoints: StackEndpoints, processes: ServiceProcesses, offset: Path
    ) -> None:
        self.endpoints = endpoints
        self.processes = processes
        self.offset_file = offset
        self.offset = timedelta(0)
        self.log = processes.log_path("insights")

    async def started(self, count: int) -> None:
        async def ready() -> bool:
            return len(logged(self.log, "service.started")) >= count

        await wait_for(ready, 120.0, "insights to start")

    async def set_up(self, products: int, channels: tuple[str, ...]) -> None:
        settings = S3Settings(
            bucket=self.endpoints.s3_bucket,
            region=self.endpoints.s3_region,
            endpoint_url=self.endpoints.s3_endpoint_url,
            access_key_id=self.endpoints.s3_access_key_id or None,
            secret_access_key=self.endpoints.s3_secret_access_key or None,
        )
        now = datetime.now(UTC)
        config = {
            "tenant_id": TENANT,
            "timezone": "America/Chicago",
            "vendors": [
                {
                    "vendor_id": "v1",
                    "parser": {"column_map": {"sku": "SKU", "quantity_available": "Q"}},
                }
            ],
            "pricing": {"base_margin_pct": 0.2},
            "channels": {channel: {} for channel in channels},
            "insights": {},
        }
        async with (
            open_object_store(settings) as store,
            nats_client(self.endpoints.nats_url) as nats,
        ):
            await store.ensure_bucket()
            await TenantConfigStore(store).save(TENANT, 1, config)
            js = nats.jetstream()
            events: list[Any] = [
                TenantConfigured(
                    event_id=f"tenant.configured:{TENANT}:1",
                    occurred_at=now,
                    tenant_id=TENANT,
                    correlation_id="bench",
                    name="Bench Home Goods",
                    channels=list(channels),
                    config_version=1,
                )
            ]
            for channel, items in catalogue(products, channels, now.date()).items():
                data = canonical_csv(Listings(tuple(sorted(items, key=lambda i: i.sku))))
                sha = hashlib.sha256(data).hexdigest()
                key = listings_key(TENANT, channel, sha)
                await store.put_bytes(key, data, content_type="text/csv")
                events.append(
                    ListingsImported(
                        event_id=f"{subjects.LISTINGS_IMPORTED}:{TENANT}:{channel}:{sha}",
                        occurred_at=now,
                        tenant_id=TENANT,
                        correlation_id="bench",
                        channel=channel,
                        listings_key=key,
                        sha256=sha,
                        rows=len(items),
                    )
                )
            started = time.perf_counter()
            for event in events:
                await js.publish(
                    event.subject,
                    event.model_dump_json().encode(),
                    stream=STREAM,
                    headers={"Nats-Msg-Id": event.event_id},
                )
        await self._imported(products * len(channels), len(channels))
        print(
            f"imported    {products * len(channels)} listings in"
            f" {time.perf_counter() - started:.1f} s (with their evaluation)",
            flush=True,
        )
        await self._seed_sales()

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.endpoints.database_url, server_settings={"search_path": "insights"}
        )

    async def _imported(self, total: int, files: int) -> None:
        conn = await self._connect()
        try:

            async def all_there() -> bool:
                done = await conn.fetchval(
                    "SELECT count(*) FROM processed_events WHERE tenant_id = $1"
                    " AND event_id LIKE 'listings.imported:%'",
                    TENANT,
                )
                count = await conn.fetchval(
                    "SELECT count(*) FROM products WHERE tenant_id = $1", TENANT
                )
                return done == files and count == total and await self._quiet(conn)

            await wait_for(all_there, 900.0, "the listings to be imported")
        finally:
            await conn.close()

    async def _quiet(self, conn: asyncpg.Connection) -> bool:
        pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return bool(pending == 0)

    async def _seed_sales(self) -> None:
        """About a third of the listings sold within the last 60 days (history)."""
        conn = await self._connect()
        try:
            await conn.execute(
                "UPDATE products SET last_sold_at = now() - (random() * 60) * interval '1 day'"
                " WHERE tenant_id = $1 AND random() < 0.35",
                TENANT,
            )
        finally:
            await conn.close()

    async def travel(self, days: int, label: str, evaluated: int) -> Figures:
        self.offset += timedelta(days=days)
        started = time.perf_counter()
        self.offset_file.write_text(str(self.offset.total_seconds()))
        conn = await self._connect()
        try:

            async def stored() -> Any:
                rows = await conn.fetch(
                    "SELECT products, opened, resolved FROM daily_evaluations"
                    " WHERE tenant_id = $1 ORDER BY local_day",
                    TENANT,
                )
                return rows[evaluated] if len(rows) > evaluated else None

            row = await wait_for(stored, 600.0, f"the evaluation of {label}")
        finally:
            await conn.close()
        wall = time.perf_counter() - started

        async def reported() -> list[dict[str, Any]] | None:  # logged after the commit
            found = logged(self.log, "daily.evaluated")
            return found if len(found) > evaluated else None

        seconds = float(
            (await wait_for(reported, 30.0, f"the log of {label}"))[evaluated]["seconds"]
        )
        rss = peak_rss_mb(self.processes.pid("insights"))
        return Figures(label, row["products"], row["opened"], row["resolved"], seconds, wall, rss)


DAYS = ((1, "day +1 (sales seeded)"), (1, "day +2 (a quiet day)"), (30, "day +32 (a month later)"))


def report(f: Figures) -> bool:
    """Print one travelled day's figures; whether it met both targets."""
    ok = f.seconds < SECONDS_TARGET and f.peak_rss_mb < RSS_TARGET_MB
    print(
        f"{f.label:<24} products {f.products}  opened {f.opened}  resolved {f.resolved}"
        f"  evaluation {f.seconds:.2f} s  (clock moved → stored {f.wall_s:.2f} s)"
        f"  insights peak RSS {f.peak_rss_mb:.0f} MB  {'ok' if ok else 'MISSED'}",
        flush=True,
    )
    return ok


async def drive(bench: Bench, products: int, channels: tuple[str, ...]) -> int:
    await bench.started(1)
    await bench.set_up(products, channels)
    bench.processes.stop("insights")
    bench.processes.start("insights")
    await bench.started(2)
    failed = False
    for index, (days, label) in enumerate(DAYS):
        try:
            figures = await bench.travel(days, label, index)
        except TimeoutError as exc:  # no evaluation stored: the day missed its target
            print(f"{label:<24} MISSED ({exc})", flush=True)
            failed = True
            break
        failed |= not report(figures)
    print(f"targets     < {SECONDS_TARGET:.0f} s, < {RSS_TARGET_MB:.0f} MB", flush=True)
    return 1 if failed else 0


def run(products: int, channels: tuple[str, ...], keep: bool = False) -> int:
    state_dir = Path(tempfile.mkdtemp(prefix="relay-bench-daily-"))
    offset = state_dir / "clock_offset"
    env = {
        **os.environ,
        "APP_CLOCK_OFFSET_FILE": str(offset),
        "APP_EVALUATE_TICK_S": "0.5",
        "APP_OUTBOX_INTERVAL_S": "0.5",
    }
    try:
        with (
            EmbeddedStack(state_dir, env=env) as stack,
            ServiceProcesses.for_stack(stack.endpoints, state_dir, parent_env=env) as processes,
        ):
            processes.start("insights")
            print(
                f"stack and insights ready; {len(channels)} channels x {products} products",
                flush=True,
            )
            return asyncio.run(drive(Bench(stack.endpoints, processes, offset), products, channels))
    finally:
        if keep:
            print(f"logs kept in {state_dir / 'logs'}")
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000, help="listings per channel")
    parser.add_argument("--channels", type=int, default=3, choices=range(1, len(CHANNELS) + 1))
    parser.add_argument("--keep", action="store_true", help="keep the state dir (logs)")
    args = parser.parse_args()
    if args.products < 1:
        parser.error("--products must be positive")
    return run(args.products, CHANNELS[: args.channels], args.keep)


if __name__ == "__main__":
    sys.exit(main())
