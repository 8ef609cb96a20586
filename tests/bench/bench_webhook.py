"""Load benchmark of the ShipStation webhook (not a test).

    uv run python tests/bench/bench_webhook.py [--seconds 60] [--rate 100] [--services all]

Starts a throwaway embedded stack (NATS, Postgres, S3) and the services as processes (like
``relay demo``), creates a tenant, then sends ``--rate`` signed ``order.shipped`` payloads per
second for ``--seconds`` seconds to the gateway on the loopback (open loop: each request
leaves on schedule, whatever the previous ones do), every one with its own event id. Prints
accepted, rejected (by status), p50/p99/max latency, then reads ``order.shipped`` back from
JetStream and checks every accepted event is there exactly once. Targets: none lost, none
duplicated, p99 < 50 ms. Exit 1 when an event is lost or duplicated (a slow p99 is reported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from relay_cli.bus_watch import collect, nats_client
from relay_cli.gateway_client import GatewayClient, GatewayError
from relay_cli.services import SERVICES
from relay_cli.stack import EmbeddedStack, ServiceProcesses, free_port, wait_for_http_ok

P99_TARGET_MS = 50.0
STREAM = "RELAY"
SUBJECT = "order.shipped"


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Bench:
    gateway_url: str
    nats_url: str
    admin_key: str
    webhook_secret: str
    seconds: int
    rate: int


def _payload(tenant_id: str, event_id: str) -> bytes:
    order = {
        "order_id": event_id,
        "channel": "amazon",
        "status": "shipped",
        "ordered_at": "2026-11-20T09:00:00Z",
        "shipped_at": "2026-11-22T09:55:00Z",
        "items": [{"sku": "SKU-1", "quantity": 1}],
    }
    body = {
        "event_id": event_id,
        "event_type": "order.shipped",
        "timestamp": datetime.now(UTC).isoformat(),
        "tenant_id": tenant_id,
        "order": order,
    }
    return json.dumps(body).encode()


async def _send(
    client: GatewayClient, bench: Bench, tenant_id: str, index: int, out: Results
) -> None:
    event_id = f"bench-{index:07d}"
    body = _payload(tenant_id, event_id)
    started = time.perf_counter()
    try:
        answer = await client.post_shipstation(body, bench.webhook_secret, expect=(202,))
        status = answer.status
    except GatewayError as exc:
        status = exc.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        out.errors[type(exc).__name__] += 1
        return
    out.latencies_ms.append((time.perf_counter() - started) * 1000)
    out.statuses[status] += 1
    if status == 202:
        out.accepted.append(event_id)


async def _load(client: GatewayClient, bench: Bench, tenant_id: str) -> Results:
    """``rate × seconds`` requests, each sent at its scheduled time (a bounded loop)."""
    out = Results()
    interval = 1.0 / bench.rate
    # Start half an interval into a wall-clock second: the limit's windows are seconds.
    start = math.ceil(time.time()) + interval / 2
    tasks: list[asyncio.Task[None]] = []
    for index in range(bench.rate * bench.seconds):
        delay = start + index * interval - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_send(client, bench, tenant_id, index, out)))
    await asyncio.gather(*tasks)
    return out


async def _delivered(bench: Bench, tenant_id: str, expected: int) -> Counter[str]:
    """How many times each webhook event id is in ``order.shipped`` (read to the end)."""
    seen: Counter[str] = Counter()
    prefix = f"{SUBJECT}:webhook:{tenant_id}:"

    def count(event: dict[str, object]) -> bool:
        seen[str(event["event_id"]).removeprefix(prefix)] += 1
        return sum(seen.values()) >= expected

    async with nats_client(bench.nats_url) as client:
        if expected:
            await collect(client, STREAM, SUBJECT, until=count, timeout=60.0)
        info = await client.jetstream().stream_info(STREAM, subjects_filter=SUBJECT)
    extra = int((info.state.subjects or {}).get(SUBJECT, 0)) - sum(seen.values())
    if extra:
        seen["<unexpected>"] += extra
    return seen


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def _report(bench: Bench, out: Results, seen: Counter[str]) -> int:
    sent = bench.rate * bench.seconds
    lost = [event_id for event_id in out.accepted if seen[event_id] == 0]
    twice = [event_id for event_id, n in seen.items() if n > 1]
    unexpected = set(seen) - set(out.accepted)
    p50, p99 = _percentile(out.latencies_ms, 50), _percentile(out.latencies_ms, 99)
    rejected = {status: n for status, n in out.statuses.items() if status != 202}
    print(f"sent        {sent} signed events ({bench.rate}/s for {bench.seconds}s)")
    print(f"accepted    {len(out.accepted)} (202)")
    print(f"rejected    {sum(rejected.values())} {dict(sorted(rejected.items()))}")
    print(f"errors      {sum(out.errors.values())} {dict(out.errors)}")
    print(
        f"latency ms  p50 {p50:.1f}  p99 {p99:.1f}  max {max(out.latencies_ms, default=0):.1f}"
        f"  mean {statistics.fmean(out.latencies_ms or [0]):.1f}"
    )
    print(
        f"delivered   {len(out.accepted) - len(lost)} of {len(out.accepted)} accepted in "
        f"{SUBJECT}; lost {len(lost)}, duplicated {len(twice)}, unexpected {len(unexpected)}"
    )
    print(
        f"targets     zero lost: {'met' if not lost else 'MISSED'};"
        f" p99 < {P99_TARGET_MS:.0f} ms: {'met' if p99 < P99_TARGET_MS else 'MISSED'}"
    )
    return 1 if lost or twice or unexpected else 0


async def drive(bench: Bench) -> int:
    tenant_id = f"bench-{secrets.token_hex(4)}"
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, bench.gateway_url, bench.admin_key)
        await admin.create_tenant(tenant_id, "Webhook bench", ["amazon"])
        print(f"tenant {tenant_id}; sending…", flush=True)
        out = await _load(admin, bench, tenant_id)
    seen = await _delivered(bench, tenant_id, len(out.accepted))
    return _report(bench, out, seen)


def run(seconds: int, rate: int, services: list[str]) -> int:
    admin_key, webhook_secret = "rk_bench_" + secrets.token_hex(16), secrets.token_hex(16)
    env = {
        **os.environ,
        "APP_BOOTSTRAP_ADMIN_KEY": admin_key,
        "APP_SECRET_KEY": secrets.token_hex(32),
        "APP_WEBHOOK_SECRETS": webhook_secret,
    }
    state_dir = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    port = free_port()
    try:
        with (
            EmbeddedStack(state_dir, env=env) as stack,
            ServiceProcesses.for_stack(
                stack.endpoints, state_dir, http_port=port, parent_env=env
            ) as processes,
        ):
            processes.start_all(services)
            gateway_url = f"http://127.0.0.1:{port}"
            wait_for_http_ok(f"{gateway_url}/v1/ready", timeout=90.0)
            print(f"stack and {', '.join(services)} ready; gateway {gateway_url}", flush=True)
            bench = Bench(
                gateway_url, stack.endpoints.nats_url, admin_key, webhook_secret, seconds, rate
            )
            return asyncio.run(drive(bench))
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60, help="how long to send (default 60)")
    parser.add_argument("--rate", type=int, default=100, help="events per second (default 100)")
    parser.add_argument(
        "--services",
        default="all",
        help="comma-separated services to start (default all; the gateway is always started)",
    )
    args = parser.parse_args()
    if args.seconds < 1 or args.rate < 1:
        parser.error("--seconds and --rate must be positive")
    wanted = list(SERVICES) if args.services == "all" else args.services.split(",")
    unknown = sorted(set(wanted) - set(SERVICES))
    if unknown:
        parser.error(f"unknown services: {', '.join(unknown)}")
    services = ["gateway", *(name for name in wanted if name != "gateway")]
    return run(args.seconds, args.rate, services)


if __name__ == "__main__":
    sys.exit(main())
