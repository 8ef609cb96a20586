"""What tracing and metrics cost (not a test): the same work with them off and on, in one run.

    uv run python tests/bench/bench_telemetry.py [--rows 200000] [--repeat 2]
                                                 [--webhook-seconds 20] [--rate 100]

One embedded stack (NATS, Postgres, S3); the gateway, ingest, normalize and pricing started as
processes twice per round: *off* (no ``OTEL_EXPORTER_OTLP_ENDPOINT``, no ``APP_METRICS_PORT``)
and *on* (spans exported by OTLP/HTTP to a collector stand-in in this process, which accepts
and counts them; every service's ``/metrics`` scraped every 5 s, as Prometheus would). Rounds
alternate off, on, off, on, … so drift hits both alike; the best of ``--repeat`` counts.

In each mode: a service run of five seeded vendor feeds of ``--rows`` rows (200,000: the
1,000,000-row run), from ``POST /v1/runs`` to SUCCEEDED; then ``--rate`` signed ShipStation
webhooks per second for ``--webhook-seconds`` (open loop), their p99 latency. Target: on costs
under 5 % of both. Exit 1 when a run fails; a missed target is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import write_feeds  # type: ignore[import-not-found]
from bench_webhook import Bench, _load, _percentile  # type: ignore[import-not-found]

from relay_cli.gateway_client import GatewayClient
from relay_cli.services import SERVICES
from relay_cli.stack import EmbeddedStack, ServiceProcesses, free_port, wait_for_http_ok
from relay_cli.stack.environment import service_env

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench-out"
RUN_SERVICES = ("gateway", "ingest", "normalize", "pricing")
TARGET_PCT = 5.0
SCRAPE_EVERY_S = 5.0


@dataclass(frozen=True)
class Round:
    mode: str
    run_s: float
    webhook_p99_ms: float
    webhook_p50_ms: float


class SpanSink:
    """A collector stand-in: answers ``POST /v1/traces`` (OTLP/HTTP) on its own thread and
    counts requests and bytes (decoding them is the collector's cost, not the services')."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests = 0
        self.bytes = 0

    @contextmanager
    def running(self) -> Iterator[str]:
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        ready = threading.Event()

        async def traces(request: web.Request) -> web.Response:
            self.bytes += len(await request.read())
            self.requests += 1
            return web.Response(body=b"", content_type="application/x-protobuf")

        async def serve() -> None:
            app = web.Application(client_max_size=256 * 1024**2)
            app.router.add_post("/v1/traces", traces)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            ready.set()
            await stop.wait()
            await runner.cleanup()

        thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield f"http://127.0.0.1:{self.port}"
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()


def _metrics_base() -> int:
    base = free_port()
    return base if base + len(SERVICES) < 65_000 else 20_000


async def _scrape_forever(urls: list[str]) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            for url in urls:
                async with session.get(f"{url}/metrics") as response:
                    await response.read()
            await asyncio.sleep(SCRAPE_EVERY_S)


async def _measure(
    gateway_url: str, admin_key: str, secret: str, feeds: dict[str, Path], args: argparse.Namespace
) -> tuple[float, list[float]]:
    config_text = (feeds["vendor_1"].parent / "tenant.yaml").read_text("utf-8")
    tenant_id = f"bench_{secrets.token_hex(4)}"
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, gateway_url, admin_key)
        owner = admin.as_key(await admin.create_tenant(tenant_id, "Telemetry bench", ["amazon"]))
        await owner.put_config(
            tenant_id, config_text.replace("tenant_id: bench", f"tenant_id: {tenant_id}")
        )
        for vendor_id, path in feeds.items():
            await owner.upload_feed(tenant_id, vendor_id, path.read_bytes(), "text/csv")
        started = time.perf_counter()
        run = await owner.start_run(tenant_id)
        async with asyncio.timeout(900):
            final = await owner.wait_for_run(run["run_id"])
        run_s = time.perf_counter() - started
        if final["status"] != "SUCCEEDED":
            raise RuntimeError(f"run {run['run_id']} {final['status']}: {final.get('error')}")
        bench = Bench(gateway_url, "", admin_key, secret, args.webhook_seconds, args.rate)
        results = await _load(admin, bench, tenant_id)
    return run_s, results.latencies_ms


async def _round(
    mode: str, gateway_url: str, metrics_urls: list[str], secrets_: tuple[str, str],
    feeds: dict[str, Path], args: argparse.Namespace,
) -> Round:  # fmt: skip
    scraper = asyncio.create_task(_scrape_forever(metrics_urls)) if metrics_urls else None
    try:
        run_s, latencies = await _measure(gateway_url, *secrets_, feeds, args)
    finally:
        if scraper is not None:
            scraper.cancel()
    result = Round(mode, run_s, _percentile(latencies, 99), _percentile(latencies, 50))
    print(
        f"{mode:>3}: run {result.run_s:7.2f} s   webhook p50 {result.webhook_p50_ms:6.1f} ms"
        f"  p99 {result.webhook_p99_ms:6.1f} ms",
        flush=True,
    )
    return result


def _services(
    stack: EmbeddedStack, state_dir: Path, env: Mapping[str, str], port: int
) -> ServiceProcesses:
    def env_for(name: str) -> Mapping[str, str]:
        return service_env(
            name, stack.endpoints, state_dir=state_dir, parent_env=env, http_port=port
        )

    return ServiceProcesses(env_for, state_dir / "logs")


def _one_mode(
    mode: str, stack: EmbeddedStack, state_dir: Path, base_env: dict[str, str],
    otlp_url: str, feeds: dict[str, Path], args: argparse.Namespace,
) -> Round:  # fmt: skip
    env = dict(base_env)
    metrics_urls: list[str] = []
    port = free_port()
    if mode == "on":
        base = _metrics_base()
        env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url, "APP_METRICS_PORT": str(base)})
        metrics_urls = [f"http://127.0.0.1:{port}"] + [
            f"http://127.0.0.1:{base + SERVICES.index(name)}" for name in RUN_SERVICES[1:]
        ]
    with _services(stack, state_dir / mode, env, port) as processes:
        processes.start_all(RUN_SERVICES)
        gateway_url = f"http://127.0.0.1:{port}"
        wait_for_http_ok(f"{gateway_url}/v1/ready", timeout=120.0)
        secrets_ = (env["APP_BOOTSTRAP_ADMIN_KEY"], env["APP_WEBHOOK_SECRETS"])
        return asyncio.run(_round(mode, gateway_url, metrics_urls, secrets_, feeds, args))


def _verdict(what: str, unit: str, off: float, on: float, cost: float) -> None:
    verdict = "met" if cost < TARGET_PCT else "MISSED"
    print(
        f"{what}  off {off:.2f} {unit}  on {on:.2f} {unit}  cost {cost:+.1f} %"
        f"  (< {TARGET_PCT:.0f} %: {verdict})"
    )


def _pct(on: float, off: float) -> float:
    return (on - off) / off * 100


def run(args: argparse.Namespace) -> int:
    feeds = write_feeds(DATA / f"telemetry_{args.rows}", args.rows)
    env = {
        **os.environ,
        "APP_BOOTSTRAP_ADMIN_KEY": "rk_bench_" + secrets.token_hex(16),
        "APP_SECRET_KEY": secrets.token_hex(32),
        "APP_WEBHOOK_SECRETS": secrets.token_hex(16),
        "APP_WEBHOOK_RATE_PER_S": str(args.rate * 10),
    }
    state_dir = Path(tempfile.mkdtemp(prefix="relay-bench-telemetry-"))
    sink = SpanSink()
    rounds: list[Round] = []
    try:
        with EmbeddedStack(state_dir, env=env) as stack, sink.running() as otlp_url:
            print(f"{len(feeds)} feeds × {args.rows} rows; {args.rate} webhooks/s for "
                  f"{args.webhook_seconds} s per mode", flush=True)  # fmt: skip
            for _ in range(args.repeat):
                for mode in ("off", "on"):
                    rounds.append(_one_mode(mode, stack, state_dir, env, otlp_url, feeds, args))
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    best = {
        mode: (
            min(r.run_s for r in rounds if r.mode == mode),
            min(r.webhook_p99_ms for r in rounds if r.mode == mode),
        )
        for mode in ("off", "on")
    }
    run_cost = _pct(best["on"][0], best["off"][0])
    p99_cost = _pct(best["on"][1], best["off"][1])
    print(f"spans exported (on): {sink.requests} OTLP requests, {sink.bytes / 1e6:.1f} MB")
    _verdict("service run", "s", best["off"][0], best["on"][0], run_cost)
    _verdict("webhook p99", "ms", best["off"][1], best["on"][1], p99_cost)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows per vendor feed (×5)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds per mode (best counts)")
    parser.add_argument("--webhook-seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=100, help="webhooks per second")
    args = parser.parse_args()
    if min(args.rows, args.repeat, args.webhook_seconds, args.rate) < 1:
        parser.error("every figure must be positive")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
