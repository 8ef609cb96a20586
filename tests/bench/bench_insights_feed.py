"""Benchmark of the insights service on a long merged feed (not a test).

    uv run python -m tests.bench.bench_insights_feed [--rows 1000000]

Starts a throwaway embedded stack (NATS, Postgres, S3) and the insights service as its own
process (``python -m relay_cli serve insights``, default settings). The tenant is
:mod:`tests.bench.bench_sheets_feed`'s (three channels with their allocation: amazon 100 %
less 2, ebay 50 %, woot 30 % less 1); it gets a first merged feed of ``--listed`` rows, then
one of ``--rows`` rows (the same generator: every SKU new but the first ones), then the same
SKUs an hour later with every quantity changed (each product updated). Prints the wall time
of each from publishing its ``offers.merged`` to insights acking it, the products it then
holds per channel (every SKU on every channel: checked exactly), and the insights process's
peak RSS (VmHWM).

Targets (issue 12): ≤ 60 s and < 1 GB. Exit 1 when a target is missed or a count is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
from tests.bench.bench_sheets_feed import (
    CHANNELS,
    RSS_TARGET_MB,
    STREAM,
    T0,
    WALL_TARGET_S,
    config,
    feed,
    merged_event,
    peak_rss_mb,
    service_process,
)
from tests.support.jetstream import nats_client, publish, wait_consumed, wait_for_stream

from relay_cli.stack import EmbeddedStack
from relay_shared.config_store import TenantConfigStore
from relay_shared.runtime import s3_settings
from relay_shared.settings import CommonSettings
from relay_shared.storage import open_object_store
from relay_shared.telemetry import configure_telemetry

DURABLE = "insights-offers-merged"
ONE_HOUR = timedelta(hours=1)


async def _products(database_url: str, tenant: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT channel, count(*) AS n FROM insights.products"
            " WHERE tenant_id = $1 GROUP BY channel ORDER BY channel",
            tenant,
        )
    finally:
        await connection.close()
    return {row["channel"]: row["n"] for row in rows}


async def run(args: argparse.Namespace, root: Path) -> int:
    tenant = "bench-insights"
    with EmbeddedStack(root / "stack", env=os.environ) as stack:
        env = {**os.environ, **stack.endpoints.as_env(), "APP_NATS_STREAM": STREAM}
        settings = CommonSettings.from_env(env)
        async with open_object_store(s3_settings(settings)) as store:
            await store.ensure_bucket()
            await TenantConfigStore(store).save(tenant, 1, config(tenant, "xlsx", ""))
            small_key = f"tenants/{tenant}/outputs/run-1/merged_inventory.csv"
            long_key = f"tenants/{tenant}/outputs/run-2/merged_inventory.csv"
            again_key = f"tenants/{tenant}/outputs/run-3/merged_inventory.csv"
            await store.put_bytes(small_key, feed(args.listed, 10))
            await store.put_bytes(long_key, feed(args.rows, 500))
            await store.put_bytes(again_key, feed(args.rows, 400))
        async with nats_client(stack.endpoints.nats_url) as client:
            with service_process("insights", env, root / "insights.log") as process:
                await wait_for_stream(client, STREAM, timeout=120)
                first = merged_event(tenant, "run-1", small_key, args.listed, T0)
                seq = await publish(client, STREAM, first)
                await wait_consumed(client, STREAM, DURABLE, seq, wait_s=300)
                before = peak_rss_mb(process.pid)
                started = time.monotonic()
                long = merged_event(tenant, "run-2", long_key, args.rows, T0)
                seq = await publish(client, STREAM, long)
                await wait_consumed(client, STREAM, DURABLE, seq, wait_s=600)
                wall = time.monotonic() - started
                started = time.monotonic()
                again = merged_event(tenant, "run-3", again_key, args.rows, T0 + ONE_HOUR)
                seq = await publish(client, STREAM, again)
                await wait_consumed(client, STREAM, DURABLE, seq, wait_s=600)
                updated = time.monotonic() - started
                peak = peak_rss_mb(process.pid)
        products = await _products(stack.endpoints.database_url, tenant)
    expected = {channel: args.rows for channel in sorted(CHANNELS)}
    ok = max(wall, updated) <= WALL_TARGET_S and peak < RSS_TARGET_MB and products == expected
    print(f"insights on a merged feed of {args.rows:,} rows, {len(CHANNELS)} channels "
          f"(targets ≤ {WALL_TARGET_S:.0f} s, < {RSS_TARGET_MB:.0f} MB): wall {wall:.2f} s "
          f"(every sku new), {updated:.2f} s (the same skus again, every quantity changed), "
          f"peak RSS {peak:.1f} MB (before the feeds {before:.1f} MB), products {products}"
          f"{'' if products == expected else f' (expected {expected})'}")  # fmt: skip
    print("result: " + ("PASS" if ok else "FAIL (exit 1)"))
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--listed", type=int, default=1_000)
    args = parser.parse_args()
    configure_telemetry("bench", "WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-insights-feed-") as folder:
        sys.exit(asyncio.run(run(args, Path(folder))))


if __name__ == "__main__":
    main()
