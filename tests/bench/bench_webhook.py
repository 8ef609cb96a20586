"""Load benchmark of the ShipStation webhook (not a test).

    uv run python tests/bench/bench_webhook.py [--seconds 30] [--rate 400] [--tenants 10]
        [--senders 32] [--services all]

Starts a throwaway embedded stack (NATS, Postgres, S3) and the services as processes (like
``relay up``), creates ``--tenants`` tenants, each with its amazon listings
(``webhook_catalogue``: the orders sell listed products, some sell out and open insights, a
few name an unlisted sku), waits until insights has imported them, then sends ``--rate``
signed ``order.shipped`` payloads per second in all (round robin over the tenants) for
``--seconds`` seconds to the gateway on the loopback, from ``--senders`` concurrent senders
(open loop: each request is due at its scheduled time, whatever the previous ones do), every
one with its own event id.

Prints accepted, rejected (by status), latency p50/p99/max measured from each request's
scheduled time (so a sender held up by a slow answer counts against the gateway) and from
when it left, the throughput, the gateway's CPU time per accepted webhook (read from
``/proc/<pid>/stat`` over the load, its idle rate measured before and subtracted), each
service's CPU over the load, the machine's busy cores (the senders' own, and what NATS,
Postgres and the rest took: whether the machine was saturated), insights' and sheets'
``order.shipped`` backlog (pending and ack pending: largest during the load, at its end) and
how long they took to catch up; then reads ``order.shipped`` back from JetStream and checks
every accepted event is there exactly once. Targets: none lost or doubled, p99 < 50 ms,
<= 0.5 ms of gateway CPU per webhook. Exit 1 when an event is lost or duplicated (slow
figures are reported).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
from nats.aio.client import Client
from webhook_catalogue import LISTED, listings_csv, order_items
from webhook_probes import (
    Backlog,
    Drain,
    LagWatch,
    backlog,
    cpu_seconds,
    cpu_times,
    machine_busy_seconds,
)

from relay_cli.bus_watch import collect, nats_client
from relay_cli.gateway_client import GatewayClient, GatewayError
from relay_cli.services import SERVICES
from relay_cli.stack import EmbeddedStack, ServiceProcesses, free_port, wait_for_http_ok
from relay_gateway.domain.webhook_payloads import order_event_id
from relay_shared.subjects import durable_name

P99_TARGET_MS = 50.0
CPU_TARGET_MS = 0.5
STREAM = "RELAY"
SUBJECT = "order.shipped"
LAGGING = ("insights", "sheets")
IDLE_SAMPLE_S = 3.0
DRAIN_TIMEOUT_S = 60.0


@dataclass
class Results:
    scheduled_ms: list[float] = field(default_factory=list)
    sent_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0
    run: str = ""


@dataclass(frozen=True)
class Bench:
    gateway_url: str
    nats_url: str
    admin_key: str
    webhook_secret: str
    seconds: int
    rate: int
    tenants: int
    senders: int
    pids: dict[str, int]


@dataclass
class Cpu:
    """CPU seconds per service over the load, and the gateway's idle rate before it."""

    used_s: dict[str, float] = field(default_factory=dict)
    gateway_system_s: float = 0.0
    gateway_idle_per_s: float = 0.0
    #: every core's busy seconds, and this process's own (the senders), over the load
    machine_s: float = 0.0
    bench_s: float = 0.0


def _payload(tenant_id: str, event_id: str, index: int) -> bytes:
    order = {
        "order_id": event_id,
        "channel": "amazon",
        "status": "shipped",
        "ordered_at": "2026-11-20T09:00:00Z",
        "shipped_at": "2026-11-22T09:55:00Z",
        "items": order_items(index),
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
    client: GatewayClient, bench: Bench, tenant_id: str, index: int, due: float, out: Results
) -> None:
    event_id = f"bench-{out.run}-{index:07d}"
    body = _payload(tenant_id, event_id, index)
    started = time.perf_counter()
    try:
        answer = await client.post_shipstation(body, bench.webhook_secret, expect=(202,))
        status = answer.status
    except GatewayError as exc:
        status = exc.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        out.errors[type(exc).__name__] += 1
        return
    ended = time.perf_counter()
    out.sent_ms.append((ended - started) * 1000)
    out.scheduled_ms.append((ended - due) * 1000)
    out.statuses[status] += 1
    if status == 202:
        out.accepted.append(order_event_id(tenant_id, event_id))


async def _load(client: GatewayClient, bench: Bench, tenants: list[str]) -> Results:
    """``rate × seconds`` requests, each due at its scheduled time, taken in order by
    ``senders`` concurrent senders."""
    out = Results(run=secrets.token_hex(3))
    total, interval = bench.rate * bench.seconds, 1.0 / bench.rate
    indices = itertools.count()
    start = time.perf_counter() + 0.2

    async def sender() -> None:
        while (index := next(indices)) < total:
            due = start + index * interval
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tenant_id = tenants[index % len(tenants)]
            await _send(client, bench, tenant_id, index, due, out)

    await asyncio.gather(*(sender() for _ in range(bench.senders)))
    out.wall_s = time.perf_counter() - start
    return out


async def _delivered(bench: Bench) -> Counter[str]:
    """How many times each event id is in ``order.shipped`` (every message read)."""
    seen: Counter[str] = Counter()
    async with nats_client(bench.nats_url) as client:
        info = await client.jetstream().stream_info(STREAM, subjects_filter=SUBJECT)
        stored = int((info.state.subjects or {}).get(SUBJECT, 0))

        def count(event: dict[str, object]) -> bool:
            seen[str(event["event_id"])] += 1
            return seen.total() >= stored

        if stored:
            await collect(client, STREAM, SUBJECT, until=count, timeout=60.0)
    return seen


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def _latency_line(name: str, values: list[float]) -> str:
    p50, p99 = _percentile(values, 50), _percentile(values, 99)
    return (
        f"{name} p50 {p50:.1f}  p99 {p99:.1f}  max {max(values, default=0):.1f}"
        f"  mean {statistics.fmean(values or [0]):.1f}"
    )


def _report_load(bench: Bench, out: Results, cpu: Cpu) -> tuple[float, float]:
    """Answers, latency, throughput and CPU; returns (p99 ms, gateway CPU ms per webhook)."""
    sent = bench.rate * bench.seconds
    rejected = {status: n for status, n in out.statuses.items() if status != 202}
    accepted = len(out.accepted)
    print(
        f"sent        {sent} signed events ({bench.rate}/s for {bench.seconds}s, "
        f"{bench.tenants} tenants, {bench.senders} senders)"
    )
    print(f"accepted    {accepted} (202); {accepted / out.wall_s:.0f}/s over {out.wall_s:.1f}s")
    print(f"rejected    {sum(rejected.values())} {dict(sorted(rejected.items()))}")
    print(f"errors      {sum(out.errors.values())} {dict(out.errors)}")
    print(_latency_line("latency ms  from schedule:", out.scheduled_ms))
    print(_latency_line("            from send:    ", out.sent_ms))
    gateway_s = cpu.used_s["gateway"]
    idle_s = cpu.gateway_idle_per_s * out.wall_s
    per_ms = 1000 * gateway_s / max(accepted, 1)
    net_ms = 1000 * max(gateway_s - idle_s, 0.0) / max(accepted, 1)
    print(
        f"gateway CPU {gateway_s:.2f} s over the load ({gateway_s / out.wall_s:.2f} cores): "
        f"{per_ms:.3f} ms per accepted webhook; {net_ms:.3f} ms without its idle "
        f"{1000 * cpu.gateway_idle_per_s:.1f} ms/s; {cpu.gateway_system_s:.2f} s in the kernel"
    )
    others = "  ".join(
        f"{name} {used / out.wall_s:.2f}" for name, used in cpu.used_s.items() if name != "gateway"
    )
    print(f"CPU cores   {others}")
    rest_s = cpu.machine_s - cpu.bench_s - sum(cpu.used_s.values())
    print(
        f"machine     {cpu.machine_s / out.wall_s:.2f} of {os.cpu_count()} cores busy over the "
        f"load: the senders (this process) {cpu.bench_s / out.wall_s:.2f}, the services above, "
        f"NATS, Postgres and the rest {rest_s / out.wall_s:.2f}"
    )
    return _percentile(out.scheduled_ms, 99), per_ms


def _report_lag(largest: dict[str, Backlog], drain: Drain) -> None:
    rates = drain.rates()
    for durable, end in drain.at_end.items():
        peak, left = largest.get(durable, Backlog(0, 0)), drain.at_stop[durable]
        print(
            f"lag         {durable}: largest {peak.pending} pending + {peak.ack_pending} ack "
            f"pending; at the end of the load {end.pending} + {end.ack_pending}; "
            f"{left.total} left after {drain.seconds:.1f} s ({rates[durable]:.0f}/s worked off)"
        )
    if drain.caught_up:
        print(f"caught up   {drain.seconds:.2f} s after the load ended")
    else:
        print(f"caught up   NOT within {drain.seconds:.0f} s after the load ended")


def _report_delivery(
    bench: Bench, out: Results, seen: Counter[str], p99: float, cpu_ms: float
) -> int:
    """Every accepted event stored once; an event stored though its request was not answered
    202 (a timeout after the publish) is counted, and allowed for such requests only."""
    lost = [event_id for event_id in out.accepted if seen[event_id] == 0]
    twice = [event_id for event_id, n in seen.items() if n > 1]
    unanswered = set(seen) - set(out.accepted)
    not_accepted = bench.rate * bench.seconds - len(out.accepted)
    print(
        f"delivered   {len(out.accepted) - len(lost)} of {len(out.accepted)} accepted in "
        f"{SUBJECT}; lost {len(lost)}, duplicated {len(twice)}; stored though not answered "
        f"202: {len(unanswered)} (of {not_accepted} not accepted)"
    )
    print(
        f"targets     zero lost: {'met' if not lost else 'MISSED'};"
        f" p99 < {P99_TARGET_MS:.0f} ms: {'met' if p99 < P99_TARGET_MS else 'MISSED'};"
        f" CPU <= {CPU_TARGET_MS} ms: {'met' if cpu_ms <= CPU_TARGET_MS else 'MISSED'}"
    )
    return 1 if lost or twice or len(unanswered) > not_accepted else 0


async def _create_tenants(admin: GatewayClient, count: int) -> list[str]:
    """``count`` tenants selling on amazon, each with its listings (``webhook_catalogue``)."""
    run = secrets.token_hex(3)
    tenants = [f"bench-{run}-{n:02d}" for n in range(count)]
    listings = listings_csv()
    for tenant_id in tenants:
        owner = admin.as_key(await admin.create_tenant(tenant_id, "Webhook bench", ["amazon"]))
        await owner.request(
            "PUT",
            f"/v1/tenants/{tenant_id}/channels/amazon/listings",
            data=listings,
            headers={"Content-Type": "text/csv"},
            expect=(202,),
        )
    return tenants


async def _listings_imported(bench: Bench, client: Client) -> None:
    """Wait until insights has imported every tenant's listings (its ``listings.imported``
    consumer has nothing left), so the load sells listed products."""
    if "insights" not in bench.pids:
        return
    durable = durable_name("insights", "listings.imported")
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while (await backlog(client, STREAM, durable)).total:
        if time.monotonic() > deadline:
            raise TimeoutError(f"insights did not import the listings in {DRAIN_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.05)


async def _measured_load(bench: Bench, tenants: list[str]) -> tuple[Results, Cpu]:
    """The load, with each service's CPU time read around it (the gateway's idle rate too)."""
    cpu = Cpu()
    idle_from = cpu_seconds(bench.pids["gateway"])
    await asyncio.sleep(IDLE_SAMPLE_S)  # a measurement interval, not a wait for an event
    cpu.gateway_idle_per_s = (cpu_seconds(bench.pids["gateway"]) - idle_from) / IDLE_SAMPLE_S
    before = {name: cpu_seconds(pid) for name, pid in bench.pids.items()}
    system_before = cpu_times(bench.pids["gateway"])[1]
    machine_before, bench_before = machine_busy_seconds(), time.process_time()
    connector = aiohttp.TCPConnector(limit=bench.senders)
    async with aiohttp.ClientSession(connector=connector) as session:
        out = await _load(
            GatewayClient(session, bench.gateway_url, bench.admin_key), bench, tenants
        )
    cpu.used_s = {name: cpu_seconds(pid) - before[name] for name, pid in bench.pids.items()}
    cpu.gateway_system_s = cpu_times(bench.pids["gateway"])[1] - system_before
    cpu.machine_s = machine_busy_seconds() - machine_before
    cpu.bench_s = time.process_time() - bench_before
    return out, cpu


async def drive(bench: Bench) -> int:
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, bench.gateway_url, bench.admin_key)
        tenants = await _create_tenants(admin, bench.tenants)
    durables = [durable_name(name, SUBJECT) for name in LAGGING if name in bench.pids]
    async with nats_client(bench.nats_url) as client:
        await _listings_imported(bench, client)
        print(f"{len(tenants)} tenants, {LISTED} listings each; sending…", flush=True)
        lag = LagWatch(client, STREAM, durables)
        watcher = asyncio.create_task(lag.watch())
        try:
            out, cpu = await _measured_load(bench, tenants)
        finally:
            watcher.cancel()
        drain = await lag.drained(timeout_s=DRAIN_TIMEOUT_S)
    p99, cpu_ms = _report_load(bench, out, cpu)
    _report_lag(lag.largest, drain)
    seen = await _delivered(bench)
    return _report_delivery(bench, out, seen, p99, cpu_ms)


def _report_log(path: Path) -> None:
    """The gateway's warnings and errors during the bench, by event (a 503 says why)."""
    found: Counter[str] = Counter()
    for line in path.read_text("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
            trace = str(entry.get("exception", "")).strip().splitlines()
            cause = str(entry.get("error", "")) or (trace[-1] if trace else "")
            found[f"{entry.get('event')} {cause[:160]}"] += 1
    print(f"gateway log {found.total()} warnings/errors {dict(found.most_common(3))}")


def run(args: argparse.Namespace, services: list[str]) -> int:
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
            print(
                f"stack and {', '.join(services)} ready; gateway {gateway_url}"
                f" (pid {processes.pid('gateway')})",
                flush=True,
            )
            bench = Bench(
                gateway_url,
                stack.endpoints.nats_url,
                admin_key,
                webhook_secret,
                args.seconds,
                args.rate,
                args.tenants,
                args.senders,
                {name: processes.pid(name) for name in services},
            )
            code = asyncio.run(drive(bench))
            _report_log(processes.log_path("gateway"))
            return code
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=30, help="how long to send (default 30)")
    parser.add_argument("--rate", type=int, default=400, help="events per second (default 400)")
    parser.add_argument("--tenants", type=int, default=10, help="tenants (default 10)")
    parser.add_argument("--senders", type=int, default=32, help="concurrent senders (default 32)")
    parser.add_argument(
        "--services",
        default="all",
        help="comma-separated services to start (default all; the gateway is always started)",
    )
    return parser


def main() -> int:
    parser = _arguments()
    args = parser.parse_args()
    if min(args.seconds, args.rate, args.tenants, args.senders) < 1:
        parser.error("--seconds, --rate, --tenants and --senders must be positive")
    wanted = list(SERVICES) if args.services == "all" else args.services.split(",")
    unknown = sorted(set(wanted) - set(SERVICES))
    if unknown:
        parser.error(f"unknown services: {', '.join(unknown)}")
    services = ["gateway", *(name for name in wanted if name != "gateway")]
    return run(args, services)


if __name__ == "__main__":
    sys.exit(main())
