"""Benchmark of the sheets service's Google backend against the local fake Google (not a test).

    uv run python tests/bench/bench_sheets_google.py [--orders 5000] [--rate 100]

Starts a throwaway embedded stack (NATS, Postgres, S3), the fake Google with Google's quotas
on (60 Sheets requests per minute per user, 300 per project, read and write each), and the
sheets service in-process with its defaults (client-side limit 60/min, writes coalesced per
spreadsheet). A tenant with three channels gets its folders and a merged feed of 400 skus,
then ``--orders`` shipped orders (1-3 lines each, spread over the channels) are published at
``--rate`` per second. Prints the Sheets requests used (reads, writes), the Drive requests,
the most Sheets requests in any 60 s, the 429s seen, and the catch-up time after the last
order; then checks every Orders row and every Listings quantity of the three spreadsheets.
Targets: catch-up ≤ 60 s, at most 60 requests in any minute, every row right. Exit 1 when a
row is wrong or missing, or when the most Sheets requests (reads and writes, answered or
refused, set-up included) in any 60 s exceed the service's configured per-user limit
(``APP_GOOGLE_REQUESTS_PER_MINUTE_PER_USER``, 60 by default); the catch-up time is printed
against its target but does not fail the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.jetstream import nats_client, publish, wait_consumed, wait_for_stream
from tests.support.running import running

from relay_cli.stack import EmbeddedStack
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import OffersMerged, OrderItem, OrderShipped, TenantConfigured
from relay_shared.runtime import s3_settings
from relay_shared.storage import open_object_store
from relay_shared.telemetry import configure_telemetry
from relay_sheets.app import SheetsApp
from relay_sheets.devfake.google import FakeGoogle, fake_google
from relay_sheets.settings import SheetsSettings

STREAM = "RELAY"
TENANT = "bench-google"
CHANNELS = ("amazon", "ebay", "woot")
SKUS = 400
START_QTY = 10_000
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CATCH_UP_TARGET_S = 60.0
_ADJECTIVES = ("Insulated", "Stainless", "Compact", "Folding", "Ultralight", "Heavy-Duty")
_NOUNS = ("Water Bottle", "Camp Stove", "Headlamp", "Trekking Pole", "Dry Bag", "Hammock")


def merged_feed() -> bytes:
    rng = random.Random(7)
    lines = ["sku,quantity_available,price,title,vendor_id,updated_at"]
    for n in range(SKUS):
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {n % 7 + 1}L"
        price = f"{rng.uniform(9, 180):.2f}"
        lines.append(f"OUT-{n:05d},{START_QTY},{price},{title},vendor_{n % 5 + 1},")
    return ("\n".join(lines) + "\n").encode()


def config() -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "vendors": [
            {
                "vendor_id": "vendor_1",
                "parser": {"column_map": {"sku": "SKU", "quantity_available": "QTY"}},
            }
        ],
        "pricing": {"base_margin_pct": 0.2},
        "output": {
            "columns": ["sku", "quantity_available", "price", "title", "vendor_id", "updated_at"]
        },
        "channels": {c: {"allocation": {"share_pct": 100, "buffer": 0}} for c in CHANNELS},
        "sheets": {
            "backend": "google",
            "google": {"shared_drive_id": "", "share_with": ["ops@merchant.example"]},
        },
    }


def orders(count: int) -> list[OrderShipped]:
    rng = random.Random(11)
    out = []
    for n in range(count):
        lines: Counter[str] = Counter()
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            lines[f"OUT-{rng.randrange(SKUS):05d}"] += rng.choice((1, 1, 2))
        shipped = T0 + timedelta(seconds=n)
        out.append(
            OrderShipped(
                event_id=f"order.shipped:{TENANT}:SS-{100000 + n}",
                occurred_at=shipped,
                tenant_id=TENANT,
                correlation_id=f"bench-{n}",
                order_id=f"SS-{100000 + n}",
                channel=CHANNELS[n % len(CHANNELS)],
                status="shipped",
                shipped_at=shipped,
                items=[OrderItem(sku=sku, quantity=q) for sku, q in sorted(lines.items())],
            )
        )
    return out


def expected(sent: list[OrderShipped]) -> dict[str, tuple[set[tuple[Any, ...]], dict[str, int]]]:
    out: dict[str, tuple[set[tuple[Any, ...]], dict[str, int]]] = {}
    for channel in CHANNELS:
        rows: set[tuple[Any, ...]] = set()
        qty = {f"OUT-{n:05d}": START_QTY for n in range(SKUS)}
        for order in (o for o in sent if o.channel == channel):
            for item in order.items:
                rows.add((order.order_id, item.sku, item.quantity))
                qty[item.sku] -= item.quantity
        out[channel] = (rows, qty)
    return out


def book_of(fake: FakeGoogle, channel: str) -> str:
    found = [f for f in fake.files.values() if f.name == f"Inventory – {channel}"]
    return found[0].id


def check(
    fake: FakeGoogle, want: dict[str, tuple[set[tuple[Any, ...]], dict[str, int]]]
) -> list[str]:
    problems = []
    for channel, (rows, qty) in want.items():
        book = book_of(fake, channel)
        got_rows = {tuple(r[:3]) for r in fake.values(book, "Orders")[1:]}
        got_qty = {r[0]: r[2] for r in fake.values(book, "Listings")[1:]}
        if got_rows != rows:
            missing, extra = len(rows - got_rows), len(got_rows - rows)
            problems.append(f"{channel}: {missing} Orders rows missing, {extra} extra")
        wrong = [s for s in qty if got_qty.get(s) != qty[s]]
        if wrong:
            problems.append(f"{channel}: {len(wrong)} Listings quantities wrong (e.g. {wrong[0]})")
    return problems


def orders_landed(
    fake: FakeGoogle, want: dict[str, tuple[set[tuple[Any, ...]], dict[str, int]]]
) -> bool:
    for channel, (rows, _) in want.items():
        if len(fake.values(book_of(fake, channel), "Orders")) - 1 < len(rows):
            return False
    return True


async def run(args: argparse.Namespace, root: Path) -> int:
    with EmbeddedStack(root / "stack", env=os.environ) as stack:
        async with fake_google() as fake, nats_client(stack.endpoints.nats_url) as client:
            drive = fake.add_shared_drive("Merchant drive")
            account = fake.write_service_account(root / "sa.json")
            settings = SheetsSettings.from_env(
                stack.endpoints.as_env(),
                nats_stream=STREAM,
                state_dir=str(root / "state"),
                service_account_file=str(account),
                google_api_url=fake.url,
                consumer_workers=4096,
            )
            document = config()
            document["sheets"]["google"]["shared_drive_id"] = drive
            async with open_object_store(s3_settings(settings)) as store:
                await store.ensure_bucket()
                await TenantConfigStore(store).save(TENANT, 1, document)
                merged_key = f"tenants/{TENANT}/outputs/run-1/merged_inventory.csv"
                await store.put_bytes(merged_key, merged_feed())
            async with running([SheetsApp(settings)]):
                await wait_for_stream(client, STREAM)
                figures = await load(args, client, fake, merged_key)
    return report(args, fake, figures, settings.google_requests_per_minute_per_user)


async def load(
    args: argparse.Namespace, client: Any, fake: FakeGoogle, merged_key: str
) -> tuple[int, float, float, list[str]]:
    """(requests of the set-up, seconds sending, catch-up seconds, row problems)."""
    configured = TenantConfigured(
        event_id=f"tenant.configured:{TENANT}:1",
        occurred_at=T0,
        tenant_id=TENANT,
        correlation_id="bench",
        name="Northwind Outdoor",
        channels=list(CHANNELS),
        config_version=1,
    )
    seq = await publish(client, STREAM, configured)
    await wait_consumed(client, STREAM, "sheets-tenant-configured", seq, wait_s=120)
    merged = OffersMerged(
        event_id=f"offers.merged:{TENANT}:run-1",
        occurred_at=T0,
        tenant_id=TENANT,
        correlation_id="bench",
        run_id="run-1",
        config_version=1,
        merged_key=merged_key,
        summary_key=f"tenants/{TENANT}/reports/run-1/s.json",
        errors_key=f"tenants/{TENANT}/reports/run-1/e.json",
        merged_rows=SKUS,
        skus_left_out=0,
        vendors={},
    )
    seq = await publish(client, STREAM, merged)
    await wait_consumed(client, STREAM, "sheets-offers-merged", seq, wait_s=300)
    setup_requests = len(fake.log)
    sent = orders(args.orders)
    started = time.monotonic()
    for n, order in enumerate(sent):
        await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
        await publish(client, STREAM, order)
    last_sent = time.monotonic()
    want = expected(sent)
    while not orders_landed(fake, want):
        if time.monotonic() - last_sent > 600:
            break
        await asyncio.sleep(0.25)
    catch_up = time.monotonic() - last_sent
    return setup_requests, last_sent - started, catch_up, check(fake, want)


def report(
    args: argparse.Namespace,
    fake: FakeGoogle,
    figures: tuple[int, float, float, list[str]],
    per_user_limit: int,
) -> int:
    """Print the figures and the verdict; the exit status (1: over the limit or a wrong row)."""
    setup, send_s, catch_up, problems = figures
    during = fake.log[setup:]
    reads = sum(1 for r in during if r.kind == "sheets-read")
    writes = sum(1 for r in during if r.kind == "sheets-write")
    drive = sum(1 for r in during if r.kind == "drive")
    refused = sum(1 for r in fake.log if r.status == 429)
    busiest = fake.max_per_window(("sheets-read", "sheets-write"), 60.0)
    busiest_writes = fake.max_per_window(("sheets-write",), 60.0)
    lines = sum(len(o.items) for o in orders(args.orders))
    over_quota = busiest > per_user_limit
    caught_up = catch_up <= CATCH_UP_TARGET_S
    figures_table = [
        ("orders sent", f"{args.orders} ({lines} lines) over {send_s:.1f} s at {args.rate:g}/s"),
        ("set-up requests", f"{setup} (folders, spreadsheets, merged feed of {SKUS} skus)"),
        ("Sheets requests, orders", f"{reads + writes} ({reads} reads, {writes} writes)"),
        ("Drive requests, orders", f"{drive}"),
        ("max Sheets requests/60 s", f"{busiest} (writes: {busiest_writes})"),
        ("per-user limit", f"{per_user_limit} a minute (Google: 60 per user, 300 per project)"),
        ("429s seen", f"{refused}"),
        ("catch-up after last order", f"{catch_up:.1f} s (target ≤ {CATCH_UP_TARGET_S:.0f} s)"),
    ]
    width = max(len(label) for label, _ in figures_table)
    print("sheets on Google (fake, quotas on):")
    for label, value in figures_table:
        print(f"  {label:<{width}}  {value}")
    verdicts = [
        ("requests per minute", not over_quota, f"{busiest} ≤ {per_user_limit}"),
        ("every row right", not problems, "; ".join(problems) or "Orders rows, Listings qty"),
        ("caught up (not gating)", caught_up, f"{catch_up:.1f} s ≤ {CATCH_UP_TARGET_S:.0f} s"),
    ]
    for label, ok, detail in verdicts:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: {detail}")
    failed = over_quota or bool(problems)
    print("result: " + ("FAIL (exit 1)" if failed else "PASS"))
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    configure_telemetry("bench", "WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-sheets-google-") as folder:
        sys.exit(asyncio.run(run(args, Path(folder))))


if __name__ == "__main__":
    main()
