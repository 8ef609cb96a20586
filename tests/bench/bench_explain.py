"""Per-SKU explain on a large run (not a test; prints figures).

    uv run python tests/bench/bench_explain.py [--rows 200000] [--lookups 200] [--repeat 3]

The feeds are ``make bench``'s seeded ones (:mod:`bench_data`: five vendors of ``--rows``
rows each, overlapping SKUs, ~2 % dirty rows), so the default is a run of 1,000,000 feed
rows. The run is built in process by the engine (normalize, each feed with its index of the
rows as read, then ``build_run_outputs``, without and with its explain index, alternating,
to show what the index costs); pricing's own adapter stores the run's index and normalize's
own adapter each feed's index of its rows as read in an embedded S3 (moto), with the run's
errors.json. Then ``--lookups`` random SKUs of the merged file (each answer's price checked
against the merged file, every offer's ``as_read`` present) and as many SKUs rejected by
normalize (a 404 ``rejected`` with findings), shuffled, are looked up through the gateway's
reader: cold (a fresh :class:`ExplainReader` per lookup: pricing's manifest and one ranged
GET, then per vendor at once the manifest of its rows as read, its key bucket and the block
of the offer's row; a rejected SKU reads errors.json, then the key buckets of the vendors
with row findings), then warm (one reader for every lookup, as the gateway keeps one per
store: manifests and the run's row findings kept).

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
from relay_normalize.adapters.source_index import write_source_index
from relay_normalize.domain import normalize_feed
from relay_pricing.adapters.explain_index import write_explain_index
from relay_pricing.domain import FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_shared import keys
from relay_shared.explain.reader import ExplainReader, SkuNotInRun
from relay_shared.explain.source_format import SourceRows, encode_source
from relay_shared.storage import ObjectStore, S3Settings, open_object_store
from relay_shared.tenant_config import TenantConfig, parse_tenant_config
from relay_shared.vendor_report import VendorReport

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 200.0
BUCKET = "bench-explain"
KEYS = {"access_key_id": "bench", "secret_access_key": "bench", "region": "us-east-1"}


AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def _inputs(
    config: TenantConfig, feeds: dict[str, Path]
) -> tuple[dict[str, FeedInput], dict[str, SourceRows]]:
    inputs: dict[str, FeedInput] = {}
    sources: dict[str, SourceRows] = {}
    for vendor_id, path in feeds.items():
        feed = normalize_feed(
            path,
            config=config,
            vendor_id=vendor_id,
            as_of=AS_OF,
            sku_map=None,
            with_csv=False,
            with_source=True,
        )
        inputs[vendor_id] = VendorFeed(VendorReport.model_validate(feed.report()), feed.offers)
        assert feed.rows_as_read is not None
        sources[vendor_id] = feed.rows_as_read
    return inputs, sources


def _source_times(config: TenantConfig, path: Path, repeat: int) -> None:
    """What the index of the rows as read costs normalize on one feed: normalize_feed with
    ``with_source`` (the rows kept, no copy), then the index encoded (what normalize's
    adapter does in a thread, uploading each part as it comes)."""
    normalized: list[float] = []
    encoded: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        feed = normalize_feed(
            path, config=config, vendor_id="vendor_1", as_of=AS_OF, sku_map=None,
            with_csv=False, with_source=True,
        )  # fmt: skip
        normalized.append(time.perf_counter() - started)
        assert feed.rows_as_read is not None
        started = time.perf_counter()
        index = encode_source(feed.rows_as_read)
        encoded.append(time.perf_counter() - started)
    plain, cost = statistics.median(normalized), statistics.median(encoded)
    size = sum(map(len, index.parts))
    print(f"  one feed's rows as read, median of {repeat}: normalize_feed {plain:.3f} s, index")
    print(f"  encoded {cost * 1000:.1f} ms (+{100 * cost / plain:.1f} %), {size:,} B in "
          f"{len(index.parts)} parts (feed file {path.stat().st_size:,} B)")  # fmt: skip


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


def _rejected_skus(sources: dict[str, SourceRows], outputs: RunOutputs, count: int) -> list[str]:
    """SKUs with a rejected row and no offer in the run."""
    merged = set(pl.read_csv(outputs.files["merged_inventory.csv"], infer_schema=False)["sku"])
    rejected = sorted(
        {sku for rows in sources.values() for sku in rows.key_rows.filter(
            pl.col("error").is_not_null())["sku"].to_list()} - merged
    )  # fmt: skip
    return random.Random(16).sample(rejected, min(count, len(rejected)))


async def _store(store: ObjectStore, outputs: RunOutputs, sources: dict[str, SourceRows]) -> None:
    started = time.perf_counter()
    await write_explain_index(store, "bench", "bench-run", outputs)
    print(f"  run's index stored (pricing's adapter): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    for rows in sources.values():
        await write_source_index(store, rows, "bench-run")
    print(f"  rows as read stored (normalize's adapter, {len(sources)} feeds): "
          f"{time.perf_counter() - started:.2f} s")  # fmt: skip
    errors = keys.report_key("bench", "bench-run", "errors.json")
    await store.put_bytes(errors, outputs.files["errors.json"])
    stored = await store.list_objects("tenants/bench/reports/bench-run/explain/")
    total = sum(found.size for found in stored)
    print(f"  run's index: {len(stored)} objects (manifest + data parts), {total:,} B in all")
    stored = await store.list_objects("tenants/bench/normalized/")
    total = sum(found.size for found in stored)
    print(f"  rows as read: {len(stored)} objects, {total:,} B in all")


async def _merged(reader: ExplainReader, sku: str, price: str) -> None:
    answer = await reader.explain("bench", "bench-run", sku)
    cents = answer.price_cents
    if cents is None or f"{cents // 100}.{cents % 100:02d}" != price:
        raise SystemExit(f"{sku}: explain says {cents}, the merged file {price}")
    if any(offer.as_read is None for offer in answer.offers):
        raise SystemExit(f"{sku}: an offer without its row as read")


async def _rejected(reader: ExplainReader, sku: str) -> None:
    try:
        await reader.explain("bench", "bench-run", sku)
    except SkuNotInRun as missing:
        if missing.answer.status != "rejected" or not missing.answer.findings:
            raise SystemExit(f"{sku}: {missing.answer.status}, not rejected") from None
    else:
        raise SystemExit(f"{sku}: explained, but it has no offer")


async def _timed(
    store: ObjectStore, sample: list[tuple[str, str]], *, warm: bool
) -> dict[str, list[float]]:
    """Each lookup's time: ``warm``, through one reader (as the gateway keeps one: the
    manifests and the errors it read are kept); else a fresh reader per lookup."""
    shared = ExplainReader(store)
    times: dict[str, list[float]] = {"merged": [], "rejected": []}
    for sku, price in sample:
        reader = shared if warm else ExplainReader(store)
        started = time.perf_counter()
        if price:
            await _merged(reader, sku, price)
        else:
            await _rejected(reader, sku)
        times["merged" if price else "rejected"].append((time.perf_counter() - started) * 1000)
    return times


async def _lookups(
    endpoint: str, outputs: RunOutputs, sources: dict[str, SourceRows], count: int
) -> dict[str, list[float]]:
    merged = pl.read_csv(outputs.files["merged_inventory.csv"], infer_schema=False)
    sample = random.Random(16).sample(merged.select("sku", "price").rows(), count)
    sample += [(sku, "") for sku in _rejected_skus(sources, outputs, count)]
    random.Random(17).shuffle(sample)
    settings = S3Settings(
        bucket=BUCKET,
        endpoint_url=endpoint,
        access_key_id=KEYS["access_key_id"],
        secret_access_key=KEYS["secret_access_key"],
    )
    async with open_object_store(settings) as store:
        await _store(store, outputs, sources)
        cold = await _timed(store, sample, warm=False)
        warm = await _timed(store, sample, warm=True)
    return {
        "cold: lookup of a merged SKU, price and as_read checked": cold["merged"],
        "cold: lookup of a rejected SKU (404 rejected, findings)": cold["rejected"],
        "warm: lookup of a merged SKU, price and as_read checked": warm["merged"],
        "warm: lookup of a rejected SKU (404 rejected, findings)": warm["rejected"],
    }


def _report(what: str, times: list[float]) -> float:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"{what} ({len(times)} random SKUs): median {statistics.median(times):.1f} ms, "
        f"p95 {p95:.1f} ms, max {max(times):.1f} ms (target < {TARGET_MS:.0f} ms)"
    )
    return p95


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
    _source_times(config, feeds["vendor_1"], args.repeat)
    inputs, sources = _inputs(config, feeds)
    _build_times(config, inputs, args.repeat)
    outputs = _build(config, inputs, explain=True)
    assert outputs.explain is not None
    print(f"  merged rows {outputs.merged_rows:,}; index rows {outputs.explain.frame.height:,}")
    with tempfile.TemporaryDirectory(prefix="relay-bench-explain-") as logs:
        moto = MotoServer(Path(logs) / "moto.log")
        moto.start(timeout=30)
        try:
            ensure_bucket(moto.endpoint_url, BUCKET, **KEYS)
            times = asyncio.run(_lookups(moto.endpoint_url, outputs, sources, args.lookups))
        finally:
            moto.stop()
    print("cold: a fresh reader per lookup; warm: one reader, as the gateway keeps one")
    worst = max(_report(what, found) for what, found in times.items())
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
