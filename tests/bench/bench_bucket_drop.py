"""From a bucket drop of a 200k-row feed to ``offers.merged`` (not a test).

    uv run python tests/bench/bench_bucket_drop.py [--rows 200000] [--repeat 3] [--poll 5]

One embedded stack (NATS, Postgres, S3 = moto) and every service as its own process, as
``relay up`` runs them, ingest polling the inbound prefixes every ``--poll`` seconds and
listening to MinIO-style bucket notifications on a NATS subject. A tenant (through the
gateway's API) watches vendor ``v1``'s inbound prefix. Each round puts a new 200k-row CSV
straight into the bucket under ``tenants/{t}/inbound/v1/`` with a plain S3 client (a new
key and new bytes, so it is never ``unchanged``), in two ways:

- ``poll``: nothing else; ingest's poll finds the object (moto cannot notify);
- ``notify``: right after the PUT, the bench publishes the notification MinIO would send.

Each round prints: PUT done → ``feed.received`` on the bus (the intake's delay), then
``feed.received`` → ``offers.merged`` (the run's own time: normalize, merge, price, write),
and the total. Target (issue 14): intake ≤ 10 s (the total within 10 s plus the run's own
time). Medians per way; exit 1 when a drop is not merged or the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import asyncpg

from relay_cli.bus_watch import nats_client
from relay_cli.gateway_client import GatewayClient
from relay_cli.services import SERVICES
from relay_cli.stack import EmbeddedStack, ServiceProcesses, free_port, wait_for_http_ok
from relay_cli.stack.environment import service_env
from relay_shared import keys, subjects
from relay_shared.storage import ObjectStore, S3Settings, open_object_store

INTAKE_TARGET_S = 10.0
EVENTS_SUBJECT = "bench.minio.events"
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _feed(rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = ["SKU,QTY,COST"]
    lines += [
        f"SKU-{n:07d},{rng.randint(0, 500)},{rng.randint(100, 99_999) / 100:.2f}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def _config(tenant_id: str) -> str:
    return json.dumps(
        {
            "tenant_id": tenant_id,
            "vendors": [
                {
                    "vendor_id": "v1",
                    "inbound": {"type": "s3", "watch": True},
                    "parser": {
                        "column_map": {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
                    },
                }
            ],
            "pricing": {"base_margin_pct": 0.20},
        }
    )


def _minio_event(bucket: str, key: str, body: bytes) -> bytes:
    """MinIO's NATS target message for a put."""
    record = {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "eventName": "s3:ObjectCreated:Put",
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "s3": {
            "bucket": {"name": bucket},
            "object": {
                "key": quote_plus(key),
                "size": len(body),
                "eTag": hashlib.md5(body).hexdigest(),  # what S3 lists
            },
        },
    }
    return json.dumps(
        {"EventName": record["eventName"], "Key": f"{bucket}/{key}", "Records": [record]}
    ).encode()


class Watcher:
    """When each drop's feed.received and its offers.merged reached the bus (core NATS
    subscriptions: JetStream's stored messages are ordinary NATS messages too)."""

    def __init__(self) -> None:
        self.received: dict[str, tuple[float, str]] = {}  # key -> (time, event id)
        self.merged: dict[str, tuple[float, dict[str, Any]]] = {}  # run id -> (time, event)

    async def on_feed(self, message: Any) -> None:
        event = json.loads(message.data)
        if event.get("run_id") is None and event.get("key"):
            self.received.setdefault(event["key"], (time.monotonic(), event["event_id"]))

    async def on_merged(self, message: Any) -> None:
        event = json.loads(message.data)
        self.merged.setdefault(event["run_id"], (time.monotonic(), event))


async def _wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.02)


async def _watching(database_url: str, tenant_id: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 60
        while not await conn.fetchval(
            "SELECT 'v1' = ANY(vendors) FROM ingest.inbound_watches WHERE tenant_id = $1",
            tenant_id,
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("ingest never watched the tenant")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def _round(
    store: ObjectStore, client: Any, watcher: Watcher, tenant_id: str, body: bytes, notify: bool
) -> tuple[float, float, int]:
    """(intake s, run s, merged rows) of one drop."""
    key = f"{keys.inbound_prefix(tenant_id, 'v1')}sync/{secrets.token_hex(4)}/stock.csv"
    await store.put_bytes(key, body, content_type="text/csv")
    put_done = time.monotonic()
    if notify:
        await client.publish(EVENTS_SUBJECT, _minio_event(store.bucket, key, body))
    await _wait(lambda: key in watcher.received, 120, f"feed.received of {key}")
    received_at, event_id = watcher.received[key]
    await _wait(lambda: event_id in watcher.merged, 600, f"offers.merged of {event_id}")
    merged_at, merged = watcher.merged[event_id]
    if not merged["event_id"].startswith("offers.merged:"):
        raise RuntimeError(f"drop {key} did not merge: {merged}")
    return received_at - put_done, merged_at - received_at, int(merged["merged_rows"])


async def _measure(url: str, admin_key: str, stack: EmbeddedStack, args: Any) -> bool:
    endpoints = stack.endpoints
    tenant_id = f"bench_drop_{secrets.token_hex(4)}"
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, url, admin_key)
        owner = admin.as_key(await admin.create_tenant(tenant_id, "Bucket drop", ["amazon"]))
        await owner.put_config(tenant_id, _config(tenant_id))
    await _watching(endpoints.database_url, tenant_id)
    await asyncio.sleep(6.0)  # a drop must come after the watch began (5 s clock grace)
    s3 = S3Settings(
        bucket=endpoints.s3_bucket,
        region=endpoints.s3_region,
        endpoint_url=endpoints.s3_endpoint_url,
        access_key_id=endpoints.s3_access_key_id or None,
        secret_access_key=endpoints.s3_secret_access_key or None,
    )
    watcher = Watcher()
    results: dict[str, list[tuple[float, float]]] = {"poll": [], "notify": []}
    async with open_object_store(s3) as store, nats_client(endpoints.nats_url) as client:
        await client.subscribe(subjects.FEED_RECEIVED, cb=watcher.on_feed)
        await client.subscribe(subjects.OFFERS_MERGED, cb=watcher.on_merged)
        await client.subscribe(subjects.RUN_FAILED, cb=watcher.on_merged)
        for number in range(args.repeat + 1):  # round 0 warms the services up
            for way in ("notify", "poll"):
                body = _feed(args.rows, seed=number * 2 + (way == "poll"))
                intake, run, rows = await _round(
                    store, client, watcher, tenant_id, body, way == "notify"
                )
                label = "warm-up" if number == 0 else f"round {number}"
                print(f"{label} {way:>6}: drop → feed.received {intake:5.2f} s, run "
                      f"{run:5.2f} s, total {intake + run:5.2f} s ({rows:,} rows merged)",
                      flush=True)  # fmt: skip
                if number > 0:
                    results[way].append((intake, run))
    return _verdict(results, args.poll)


def _verdict(results: Mapping[str, list[tuple[float, float]]], poll_s: float) -> bool:
    ok = True
    for way, rounds in results.items():
        intake = statistics.median(r[0] for r in rounds)
        run = statistics.median(r[1] for r in rounds)
        worst = max(r[0] for r in rounds)
        every = f" (poll every {poll_s:g} s)" if way == "poll" else ""
        print(f"{way:>6} (median of {len(rounds)}): intake {intake:.2f} s (worst {worst:.2f} s), "
              f"run {run:.2f} s, total {intake + run:.2f} s; target intake ≤ "
              f"{INTAKE_TARGET_S:.0f} s{every}")  # fmt: skip
        ok = ok and worst <= INTAKE_TARGET_S
    return ok


def _processes(
    stack: EmbeddedStack, state_dir: Path, env: Mapping[str, str], port: int
) -> ServiceProcesses:
    def env_for(name: str) -> Mapping[str, str]:
        return service_env(
            name, stack.endpoints, state_dir=state_dir, parent_env=env, http_port=port
        )

    return ServiceProcesses(env_for, state_dir / "logs")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--poll", type=float, default=5.0, help="APP_INBOUND_POLL_S")
    args = parser.parse_args()
    env = {
        **_ENV,
        "APP_BOOTSTRAP_ADMIN_KEY": "rk_bench_" + secrets.token_hex(16),
        "APP_SECRET_KEY": secrets.token_hex(32),
        "APP_WEBHOOK_SECRETS": secrets.token_hex(16),
        "APP_INBOUND_POLL_S": str(args.poll),
        "APP_BUCKET_EVENTS_SUBJECT": EVENTS_SUBJECT,
    }
    state_dir = Path(tempfile.mkdtemp(prefix="relay-bench-drop-"))
    port = free_port()
    try:
        with (
            EmbeddedStack(state_dir, env=env) as stack,
            _processes(stack, state_dir, env, port) as processes,
        ):
            processes.start_all(SERVICES)
            url = f"http://127.0.0.1:{port}"
            wait_for_http_ok(f"{url}/v1/ready", timeout=120.0)
            print(f"{args.rows:,}-row feeds, ingest polls every {args.poll:g} s", flush=True)
            ok = asyncio.run(_measure(url, env["APP_BOOTSTRAP_ADMIN_KEY"], stack, args))
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
