"""Per-SKU explain on a large run (not a test; prints figures).

    uv run python tests/bench/bench_explain.py [--rows 200000] [--lookups 200] [--repeat 3]

The feeds are ``make bench``'s seeded ones (:mod:`bench_data`: five vendors of ``--rows``
rows each, overlapping SKUs, ~2 % dirty rows), so the default is a run of 1,000,000 feed
rows. The run is built in process by the engine (normalize, then ``build_run_outputs``,
without and with its explain index, alternating, to show what the index costs); pricing's
own adapter stores the index in an embedded S3 (moto); then ``--lookups`` random SKUs of the
merged file are looked up as the gateway does (a fresh :class:`ExplainReader` per request:
the manifest, then one ranged GET), each answer's price checked against the merged file.

Target (issue 16): under 200 ms for one SKU of a 1M-row run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import write_feeds  # type: ignore[import-not-found]

from relay_cli.stack.s3 import MotoServer, ensure_bucket
from relay_normalize.domain import normalize_feed
from relay_pricing.adapters.explain_index import write_explain_index
from relay_pricing.domain import FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_shared.explain.reader import ExplainReader
from relay_shared.storage import S3Settings, open_object_store
from relay_shared.tenant_config import TenantConfig, parse_tenant_config
from relay_shared.vendor_report import VendorReport

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 200.0
BUCKET = "bench-explain"
KEYS = {"access_key_id": "bench", "secret_access_key": "bench", "region": "us-east-1"}


AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def _inputs(config: TenantConfig, feeds: dict[str, Path]) -> dict[str, FeedInput]:
    inputs: dict[str, FeedInput] = {}
    for vendor_id, path in feeds.items():
        feed = normalize_feed(
            path, config=config, vendor_id=vendor_id, as_of=AS_OF, sku_map=None, with_csv=False
        )
        inputs[vendor_id] = VendorFeed(VendorReport.model_validate(feed.report()), feed.offers)
    return inputs


def _build(config: TenantConfig, inputs: dict[str, FeedInput], *, explain: bool) -> RunOutputs:
    return build_run_outputs(
        config,
        run_id="bench-run",
        as_of=AS_OF,
        config_version=1,
        feeds=inputs,
        timings_ms={},
        explain=explain,
    )


def _build_times(config: TenantConfig, inputs: dict[str, FeedInput], repeat: int) -> None:
    """What the index costs the merge: build_run_outputs without and with it, alternating."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeat):
        for explain in (False, True):
            started = time.perf_counter()
            _build(config, inputs, explain=explain)
            times[explain].append(time.perf_counter() - started)
    plain, indexed = (statistics.median(times[flag]) for flag in (False, True))
    print(f"  merge+price (build_run_outputs), median of {repeat}: {plain:.2f} s without the")
    print(f"  index, {indexed:.2f} s with it (+{indexed - plain:.2f} s)")


async def _lookups(endpoint: str, outputs: RunOutputs, count: int) -> list[float]:
    merged = pl.read_csv(outputs.files["merged_inventory.csv"], infer_schema=False)
    sample = random.Random(16).sample(merged.select("sku", "price").rows(), count)
    settings = S3Settings(
        bucket=BUCKET,
        endpoint_url=endpoint,
        access_key_id=KEYS["access_key_id"],
        secret_access_key=KEYS["secret_access_key"],
    )
    async with open_object_store(settings) as store:
        started = time.perf_counter()
        await write_explain_index(store, "bench", "bench-run", outputs)
        print(f"  index stored (pricing's adapter): {time.perf_counter() - started:.2f} s")
        stored = await store.list_objects("tenants/bench/reports/bench-run/explain/")
        total = sum(found.size for found in stored)
        print(f"  objects: {len(stored)} (manifest + data parts), {total:,} B in all")
        times = []
        for sku, price in sample:
            started = time.perf_counter()
            answer = await ExplainReader(store).explain("bench", "bench-run", sku)
            times.append((time.perf_counter() - started) * 1000)
            cents = answer.price_cents
            if cents is None or f"{cents // 100}.{cents % 100:02d}" != price:
                raise SystemExit(f"{sku}: explain says {cents}, the merged file {price}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows per vendor (5 vendors)")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the build timing")
    args = parser.parse_args()
    folder = ROOT / "bench-out" / f"explain-{args.rows}"
    feeds = write_feeds(folder, args.rows)
    config = parse_tenant_config(yaml.safe_load((folder / "tenant.yaml").read_text()))
    print(f"run of {len(feeds)} x {args.rows:,} = {len(feeds) * args.rows:,} feed rows")
    inputs = _inputs(config, feeds)
    _build_times(config, inputs, args.repeat)
    outputs = _build(config, inputs, explain=True)
    assert outputs.explain is not None
    print(f"  merged rows {outputs.merged_rows:,}; index rows {outputs.explain.frame.height:,}")
    with tempfile.TemporaryDirectory(prefix="relay-bench-explain-") as logs:
        moto = MotoServer(Path(logs) / "moto.log")
        moto.start(timeout=30)
        try:
            ensure_bucket(moto.endpoint_url, BUCKET, **KEYS)
            times = asyncio.run(_lookups(moto.endpoint_url, outputs, args.lookups))
        finally:
            moto.stop()
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"lookup of one SKU ({len(times)} random SKUs, prices checked): "
        f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {max(times):.1f} ms"
        f" (target < {TARGET_MS:.0f} ms)"
    )
    return 0 if p95 < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
