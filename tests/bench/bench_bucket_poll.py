"""Benchmark of the inbound poll for bucket drops (not a test).

    uv run python tests/bench/bench_bucket_poll.py [--tenants 100] [--vendors 5]
        [--history 6] [--drops 50] [--interval 1.0]

Starts a throwaway embedded stack (NATS, Postgres, S3 = moto, which cannot notify) and ingest
in this process (the code ``relay serve ingest`` runs) polling every ``--interval`` seconds.
Gives ``--tenants`` merchants ``--vendors`` watched vendors each, with ``--history`` earlier
uploads per vendor in the gateway's layout (what a month of weekly feeds leaves in the bucket),
then drops ``--drops`` files one by one at random tenants/vendors with any S3 client.
Prints: ``ListObjectsV2`` calls per poll interval (the poll's cost: one page per tenant), the
time of one poll round over every tenant, and the time from each drop's PUT to its
``feed.received`` on the bus (p50/p95/max). Exit 1 when a drop was not announced exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from relay_cli.bus_watch import nats_client
from relay_cli.stack import EmbeddedStack, StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.drop_handlers import DropHandlers
from relay_ingest.settings import IngestSettings
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import TenantConfigured
from relay_shared.runtime import run_worker
from relay_shared.storage import ObjectStore, S3Settings, open_object_store
from relay_shared.subjects import durable_name
from relay_shared.worker_app import HandlersNotWiredError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_data import _row
from tests.support.jetstream import wait_for_stream
from tests.support.polling import wait_until

STREAM = "RELAY"
DURABLE = durable_name("ingest", subjects.TENANT_CONFIGURED)
COLUMN_MAP = {
    "sku": "SKU",
    "quantity_available": "QTY",
    "cost": "COST",
    "map_price": "MAP",
    "lead_time_days": "LEAD",
}


def _config(tenant: str, vendors: list[str]) -> dict[str, Any]:
    return {
        "tenant_id": tenant,
        "timezone": "America/Chicago",
        "vendors": [
            {
                "vendor_id": vendor,
                "required": index == 0,
                "inbound": {"type": "s3", "watch": True},
                "parser": {"format": "csv", "column_map": COLUMN_MAP},
            }
            for index, vendor in enumerate(vendors)
        ],
        "pricing": {"base_margin_pct": 0.18, "min_price": 9.99},
    }


def _feed(rng: random.Random, rows: int) -> bytes:
    header = "SKU,QTY,COST,MAP,LEAD,COND,BRAND,TITLE\n"
    return (header + "".join(_row(rng, rng.randrange(10**6)) for _ in range(rows))).encode()


async def _seed(
    store: ObjectStore, tenants: list[str], vendors: list[str], history: int, rng: random.Random
) -> None:
    """Each tenant's config and its vendors' earlier uploads (weekly, in the gateway layout)."""
    semaphore = asyncio.Semaphore(32)
    week = timedelta(days=7)
    start = datetime.now(UTC) - history * week

    async def put(key: str, body: bytes) -> None:
        async with semaphore:
            await store.put_bytes(key, body)

    jobs = []
    for tenant in tenants:
        await TenantConfigStore(store).save(tenant, 1, _config(tenant, vendors))
        for vendor in vendors:
            for n in range(history):
                key = keys.inbound_key(tenant, vendor, start + n * week, f"up{n:04d}", "csv")
                jobs.append(put(key, _feed(rng, 40)))
    await asyncio.gather(*jobs)


async def _configure(nats_url: str, tenants: list[str]) -> None:
    async with nats_client(nats_url) as client:
        js = client.jetstream()
        for tenant in tenants:
            event = TenantConfigured(
                event_id=f"tenant.configured:{tenant}:1",
                occurred_at=datetime.now(UTC),
                tenant_id=tenant,
                correlation_id=f"bench-{tenant}",
                name=tenant,
                channels=[],
                config_version=1,
            )
            await js.publish(
                event.subject,
                event.model_dump_json().encode(),
                stream=STREAM,
                headers={"Nats-Msg-Id": event.event_id},
            )

        async def settled() -> bool:
            info = await js.consumer_info(STREAM, DURABLE)
            return not info.num_pending and not info.num_ack_pending

        await wait_until(settled, 120.0, "ingest to read every tenant.configured")


async def _poll_cost(handlers: DropHandlers, rounds: int) -> tuple[float, float]:
    """(ListObjectsV2 calls per poll round, seconds per round), over ``rounds`` rounds."""
    listing = handlers.listing
    before = getattr(listing, "calls", 0)
    started = time.perf_counter()
    for _ in range(rounds):
        await handlers.poll_once()
    seconds = (time.perf_counter() - started) / rounds
    return (getattr(listing, "calls", 0) - before) / rounds, seconds


@contextlib.asynccontextmanager
async def _ingest(endpoints: StackEndpoints, poll_s: float) -> AsyncIterator[DropHandlers]:
    """Ingest running in this process, polling every ``poll_s`` seconds (0: never)."""
    settings = IngestSettings.from_env(
        endpoints.as_env(), nats_stream=STREAM, inbound_poll_s=poll_s
    )
    app = IngestApp(settings)
    task = asyncio.create_task(run_worker(app.broker, app.settings, app.wired()))
    try:
        handlers = await _wired(app)
        async with nats_client(endpoints.nats_url) as client:
            await wait_for_stream(client, STREAM)
            await _declared(client, DURABLE)
        yield handlers
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _drops(
    endpoints: StackEndpoints,
    store: ObjectStore,
    tenants: list[str],
    vendors: list[str],
    count: int,
    rng: random.Random,
) -> tuple[list[float], dict[str, int]]:
    """Drop ``count`` files at random moments; seconds from each PUT to its feed.received, and how
    many feed.received each key got."""
    received: dict[str, int] = {}
    arrived: dict[str, float] = {}
    async with nats_client(endpoints.nats_url) as client:
        js = client.jetstream()

        async def on_message(message: Any) -> None:
            event = json.loads(message.data)
            if event.get("run_id") is None and event.get("key"):
                received[event["key"]] = received.get(event["key"], 0) + 1
                arrived.setdefault(event["key"], time.monotonic())
            await message.ack()

        subscription = await js.subscribe(subjects.FEED_RECEIVED, stream=STREAM, cb=on_message)
        put_at: dict[str, float] = {}
        spread = max(10.0, count * 0.5)  # drops arrive at random moments, independently

        async def drop(n: int, tenant: str, vendor: str, delay: float, body: bytes) -> None:
            await asyncio.sleep(delay)
            key = f"{keys.inbound_prefix(tenant, vendor)}sftp-sync/{n:04d}/stock.csv"
            put_at[key] = time.monotonic()
            await store.put_bytes(key, body)

        planned = [
            (n, rng.choice(tenants), rng.choice(vendors), rng.uniform(0, spread), _feed(rng, 200))
            for n in range(count)
        ]
        try:
            await asyncio.gather(*(drop(*plan) for plan in planned))

            async def all_arrived() -> bool:
                return len(arrived) >= count

            await wait_until(all_arrived, 120.0, "every drop's feed.received")
            await asyncio.sleep(3.0)  # later repeats, if any, would show up by now
            latencies = [arrived[key] - at for key, at in put_at.items()]
        finally:
            await subscription.unsubscribe()
    return latencies, received


async def _declared(client: Any, durable: str) -> None:
    js = client.jetstream()

    async def exists() -> bool:
        return durable in {info.name for info in await js.consumers_info(STREAM)}

    await wait_until(exists, 60.0, f"consumer {durable}")


async def _wired(app: IngestApp) -> DropHandlers:
    """The running app's drop handlers, once its resources are open."""
    while True:
        with contextlib.suppress(HandlersNotWiredError):
            return app.handlers[2]
        await asyncio.sleep(0.1)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(endpoints: StackEndpoints, args: argparse.Namespace) -> int:
    rng = random.Random(20261205)
    tenants = [f"merchant-{n:03d}" for n in range(args.tenants)]
    vendors = [f"vendor_{n + 1}" for n in range(args.vendors)]
    s3 = S3Settings(
        bucket=endpoints.s3_bucket,
        region=endpoints.s3_region,
        endpoint_url=endpoints.s3_endpoint_url,
        access_key_id=endpoints.s3_access_key_id or None,
        secret_access_key=endpoints.s3_secret_access_key or None,
    )
    async with open_object_store(s3) as store:
        await store.ensure_bucket()
        started = time.monotonic()
        await _seed(store, tenants, vendors, args.history, rng)
        objects = args.tenants * args.vendors * args.history
        print(f"seeded {objects} earlier uploads in {time.monotonic() - started:.1f} s", flush=True)
        await asyncio.sleep(6.0)  # the history must predate the watches (clock grace 5 s)
        # 1: the cost of one poll round (no background poll): calls and time
        async with _ingest(endpoints, 0) as handlers:
            await _configure(endpoints.nats_url, tenants)
            calls, round_s = await _poll_cost(handlers, rounds=3)
        # 2: drops picked up by the background poll, every --interval seconds
        async with _ingest(endpoints, args.interval):
            latencies, received = await _drops(endpoints, store, tenants, vendors, args.drops, rng)
    twice = sum(1 for n in received.values() if n != 1)
    print(f"tenants × vendors       {args.tenants} × {args.vendors} (history {objects} objects)")
    print(f"ListObjectsV2 / round   {calls:.1f} (one round per interval of {args.interval:g} s)")
    print(f"one poll round          {round_s * 1000:.0f} ms over {args.tenants} tenants")
    print(
        f"drop → feed.received    p50 {statistics.median(latencies):.2f} s, "
        f"p95 {_pct(latencies, 0.95):.2f} s, max {max(latencies):.2f} s ({len(latencies)} drops)"
    )
    print(f"announced ≠ once        {twice}")
    return 0 if twice == 0 and len(received) == args.drops else 1


async def run(args: argparse.Namespace) -> int:
    state_dir = Path(tempfile.mkdtemp(prefix="relay-bench-poll-"))
    try:
        with EmbeddedStack(state_dir, env=os.environ) as stack:
            return await drive(stack.endpoints, args)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--vendors", type=int, default=5)
    parser.add_argument("--history", type=int, default=6, help="earlier uploads per vendor")
    parser.add_argument("--drops", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
