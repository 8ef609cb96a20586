"""Per-SKU explain through the gateway's HTTP API on a 1M-row run (not a test).

    uv run python tests/bench/bench_explain_http.py [--rows 200000] [--lookups 200]

One embedded stack and every service as its own process (:mod:`service_stack`, as
``relay up`` runs them). A tenant gets ``make bench``'s catalogue-shaped feeds
(:mod:`bench_real_data`: five vendors of ``--rows`` rows, SKU maps, dirty rows, duplicates)
and one run through the services. Then ``--lookups`` random SKUs of the run's merged file
and as many SKUs the run never saw, shuffled, are asked one at a time with
``GET /v1/runs/{run_id}/skus/{sku}/explain`` as the tenant's owner. Each merged SKU's answer
must be a 200 whose ``price_cents`` is the merged file's price and whose every offer has its
row as read; each unknown SKU a 404 ``sku_never_present``. Prints the latency (from request
to parsed answer) of the first lookup, the median, p95 and max of each kind.

Target (issue 16): under 200 ms for one SKU of a 1M-row run. Exit 1 when an answer is wrong
or the p95 misses the target.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import secrets
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_real_data import write_real_feeds  # type: ignore[import-not-found]
from service_stack import (  # type: ignore[import-not-found]
    DATA,
    follow_run,
    running_services,
    seed_tenant,
)

from relay_cli.gateway_client import GatewayClient

TARGET_MS = 200.0


async def _merged_prices(owner: GatewayClient, run_id: str) -> dict[str, int]:
    """The run's merged file, SKU → price in cents."""
    artifacts = {item["name"]: item for item in await owner.artifacts(run_id)}
    body = await owner.download(artifacts["merged_inventory.csv"]["url"])
    frame = pl.read_csv(io.BytesIO(body), infer_schema=False, columns=["sku", "price"])
    return {
        sku: int(Decimal(price) * 100)
        for sku, price in frame.iter_rows()
        if price is not None and price != ""
    }


async def _lookup(owner: GatewayClient, run_id: str, sku: str) -> tuple[float, Any, int]:
    started = time.perf_counter()
    response = await owner.request(
        "GET", f"/v1/runs/{run_id}/skus/{sku}/explain", expect=(200, 404)
    )
    return (time.perf_counter() - started) * 1000, response.body, response.status


def _check(sku: str, cents: int | None, status: int, body: Any) -> str | None:
    """What is wrong with the answer for ``sku`` (None: it is right)."""
    if cents is None:
        code = (body or {}).get("error", {}).get("code") if status == 404 else None
        return None if code == "sku_never_present" else f"{sku}: {status} {body}"
    if status != 200 or body["price_cents"] != cents:
        return f"{sku}: {status}, price {body.get('price_cents')} (merged {cents})"
    if any(offer["as_read"] is None for offer in body["offers"]):
        return f"{sku}: an offer without its row as read"
    return None


async def _measure(url: str, admin_key: str, folder: Path, feeds: dict[str, Path], n: int) -> bool:
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, url, admin_key)
        tenant_id, owner = await seed_tenant(admin, folder, feeds)
        run = await owner.start_run(tenant_id)
        await follow_run(owner, run["run_id"], time.perf_counter())
        prices = await _merged_prices(owner, run["run_id"])
        chosen = random.Random(7).sample(sorted(prices), min(n, len(prices)))
        asks: list[tuple[str, int | None]] = [(sku, prices[sku]) for sku in chosen]
        asks += [(f"NEVER-{secrets.token_hex(6)}", None) for _ in range(n)]
        random.Random(8).shuffle(asks)
        times: dict[str, list[float]] = {"merged": [], "never present": []}
        wrong: list[str] = []
        first_ms: float | None = None
        for sku, cents in asks:
            ms, body, status = await _lookup(owner, run["run_id"], sku)
            first_ms = ms if first_ms is None else first_ms
            times["merged" if cents is not None else "never present"].append(ms)
            if (problem := _check(sku, cents, status, body)) is not None:
                wrong.append(problem)
    print(f"run {run['run_id']}: {len(prices):,} merged SKUs; first lookup {first_ms:.1f} ms")
    worst = 0.0
    for kind, values in times.items():
        ordered = sorted(values)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        worst = max(worst, p95)
        print(f"{kind:>14}: {len(values)} lookups, median {statistics.median(values):.1f} ms, "
              f"p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms")  # fmt: skip
    for problem in wrong[:10]:
        print("WRONG " + problem)
    print(f"p95 {worst:.1f} ms (target < {TARGET_MS:.0f} ms); {len(wrong)} wrong answers")
    return not wrong and worst < TARGET_MS


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows per vendor feed (×5)")
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()
    folder = DATA / f"service-real-{args.rows}"
    feeds = write_real_feeds(folder, args.rows)
    with running_services() as services:
        ok = asyncio.run(_measure(services.url, services.admin_key, folder, feeds, args.lookups))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
