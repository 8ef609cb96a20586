"""Load benchmark of the channels service (not a test).

    uv run python tests/bench/bench_channels.py [--insights 1000] [--tenants 10]

Starts a throwaway embedded stack (NATS, Postgres, S3), the local fake marketplaces (Amazon
LWA + Listings Items with its 5 req/s burst 10 limit per seller, eBay OAuth + Sell Inventory)
and ``relay serve channels`` as its own process pointed at them. Gives ``--tenants`` merchants
three channels each with ``dry_run: false`` (Amazon pauses, eBay reprices, Woot pauses through
its update file) and a merged feed, then publishes ``--insights`` insights spread over them.
Prints: time until every action was audited, audit rows by channel and outcome, requests each
fake received, the highest requests/second the fake Amazon saw for one seller (and how many it
answered 429), and whether anything was lost or done twice. Exit 1 when an insight was not
acted on exactly once, or when the fake Amazon saw the rate limit breached (it answered a
429).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.js.errors import NotFoundError

from relay_cli.bus_watch import collect, nats_client
from relay_cli.stack import EmbeddedStack, ServiceProcesses, StackEndpoints
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import Event, InsightGenerated, OffersMerged, TenantConfigured
from relay_shared.secrets_box import SecretsBox
from relay_shared.storage import ObjectStore, S3Settings, open_object_store

# the fakes live with the tests (run as a script, the repository root is not on the path)
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.fake_marketplaces import (
    AMAZON_CREDENTIALS,
    EBAY_CREDENTIALS,
    MARKETPLACE_ID,
    Marketplaces,
    fake_marketplaces,
)

STREAM = "RELAY"
AT = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
#: the share of insights per channel (kind): amazon out_of_stock, ebay slow_mover, woot out_of_stock
MIX = (
    ("amazon", "out_of_stock", 0.4),
    ("ebay", "slow_mover", 0.35),
    ("woot", "out_of_stock", 0.25),
)
_WORDS = ("Torque Wrench", "Socket Set", "Hex Key", "Brake Pad", "Oil Filter", "Spark Plug")


def _config(tenant: str) -> dict[str, Any]:
    channels = {
        "amazon": {
            "insights": ["out_of_stock"],
            "actions": {"out_of_stock": "pause"},
            "account": {"seller_id": f"A{tenant[-8:].upper()}", "marketplace_id": MARKETPLACE_ID},
            "credentials": dict(AMAZON_CREDENTIALS),
            "dry_run": False,
        },
        "ebay": {
            "insights": ["slow_mover"],
            "actions": {"slow_mover": {"reprice_pct": -7, "floor": "map"}},
            "credentials": dict(EBAY_CREDENTIALS),
            "dry_run": False,
        },
        "woot": {
            "insights": ["out_of_stock"],
            "actions": {"out_of_stock": "pause"},
            "dry_run": False,
        },
    }
    return {
        "tenant_id": tenant,
        "vendors": [
            {
                "vendor_id": "v1",
                "parser": {"column_map": {"sku": "SKU", "quantity_available": "QTY"}},
            }
        ],
        "pricing": {"base_margin_pct": 0.2, "min_price": "9.99"},
        "output": {"columns": ["sku", "quantity_available", "price", "map_price", "title"]},
        "channels": channels,
    }


def _merged(rng: random.Random, skus: list[str]) -> str:
    lines = ["sku,quantity_available,price,map_price,title"]
    for sku in skus:
        price = rng.randint(1999, 18999) / 100
        map_price = f"{price * 0.85:.2f}" if rng.random() < 0.6 else ""
        lines.append(f"{sku},{rng.randint(0, 40)},{price:.2f},{map_price},{rng.choice(_WORDS)}")
    return "\n".join(lines) + "\n"


async def _publish(nats_url: str, events: list[Event]) -> None:
    async with nats_client(nats_url) as client:
        js = client.jetstream()
        for event in events:
            await js.publish(
                event.subject,
                event.model_dump_json().encode(),
                stream=STREAM,
                headers={"Nats-Msg-Id": event.event_id},
            )


async def _tenants(store: ObjectStore, count: int, rng: random.Random) -> dict[str, list[str]]:
    """Configs (credentials sealed, as the gateway stores them) and merged feeds."""
    box = SecretsBox(os.environ["APP_SECRET_KEY"])
    tenants: dict[str, list[str]] = {}
    for number in range(count):
        tenant = f"bench-{secrets.token_hex(4)}"
        skus = [f"ACM-{number:02d}{n:04d}" for n in range(rng.randint(120, 180))]
        await TenantConfigStore(store).save(tenant, 1, box.seal_config(_config(tenant)))
        key = keys.output_key(tenant, "run-1", "merged_inventory.csv")
        await store.put_bytes(key, _merged(rng, skus).encode())
        tenants[tenant] = skus
    return tenants


def _setup_events(tenants: dict[str, list[str]]) -> list[Event]:
    events: list[Event] = []
    for tenant, skus in tenants.items():
        events.append(
            TenantConfigured(
                event_id=f"{subjects.TENANT_CONFIGURED}:{tenant}:1",
                occurred_at=AT,
                tenant_id=tenant,
                correlation_id="bench",
                name=tenant,
                channels=["amazon", "ebay", "woot"],
                config_version=1,
            )
        )
        events.append(
            OffersMerged(
                event_id=f"{subjects.OFFERS_MERGED}:{tenant}:run-1",
                occurred_at=AT,
                tenant_id=tenant,
                correlation_id="bench",
                run_id="run-1",
                config_version=1,
                merged_key=keys.output_key(tenant, "run-1", "merged_inventory.csv"),
                summary_key=keys.report_key(tenant, "run-1", "run_summary.json"),
                errors_key=keys.report_key(tenant, "run-1", "errors.json"),
                merged_rows=len(skus),
                skus_left_out=0,
                vendors={},
            )
        )
    return events


def _insights(
    tenants: dict[str, list[str]], total: int, rng: random.Random
) -> list[InsightGenerated]:
    names = list(tenants)
    found: list[InsightGenerated] = []
    used: set[tuple[str, str, str]] = set()
    while len(found) < total:
        tenant = names[len(found) % len(names)]
        channel, kind = rng.choices([(c, k) for c, k, _ in MIX], weights=[w for *_, w in MIX])[0]
        sku = rng.choice(tenants[tenant])
        if (tenant, channel, sku) in used:
            continue
        used.add((tenant, channel, sku))
        insight_id = secrets.token_hex(8)
        found.append(
            InsightGenerated(
                event_id=f"{subjects.INSIGHT_GENERATED}:{insight_id}:1:open",
                occurred_at=AT,
                tenant_id=tenant,
                correlation_id=f"bench-{insight_id}",
                insight_id=insight_id,
                channel=channel,
                sku=sku,
                kind=kind,
                status="open",
                since=AT,  # type: ignore[arg-type]
                detail={"quantity": 0 if kind == "out_of_stock" else rng.randint(3, 30)},
            )
        )
    return found


async def _stream_declared(nats_url: str, timeout: float = 90.0) -> None:
    """Until the service has declared the stream."""
    deadline = time.monotonic() + timeout
    async with nats_client(nats_url) as client:
        while True:
            try:
                await client.jetstream().stream_info(STREAM)
                return
            except NotFoundError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def _settled(nats_url: str, consumers: tuple[str, ...], timeout: float = 90.0) -> None:
    """Until the service's consumers exist and have nothing pending."""
    deadline = time.monotonic() + timeout
    async with nats_client(nats_url) as client:
        js = client.jetstream()
        for name in consumers:
            while True:
                try:
                    info = await js.consumer_info(STREAM, f"channels-{name}")
                    if info.num_pending == 0 and info.num_ack_pending == 0:
                        break
                except NotFoundError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"consumer channels-{name} did not settle")
                await asyncio.sleep(0.2)


async def _audited(
    nats_url: str, tenants: set[str], count: int, settle: float = 600.0
) -> list[dict[str, Any]]:
    """The tenants' channel.acted events: until ``count`` or ``settle`` seconds have passed
    (asking for one more than expected, after the work settled, reads every one there is)."""
    seen: list[dict[str, Any]] = []

    def enough(event: dict[str, Any]) -> bool:
        if event["tenant_id"] in tenants:
            seen.append(event)
        return len(seen) >= count

    async with nats_client(nats_url) as client:
        try:
            await collect(client, STREAM, subjects.CHANNEL_ACTED, until=enough, timeout=settle)
        except TimeoutError:
            if settle >= 600.0:
                raise
    return seen


def _report(
    fakes: Marketplaces,
    planned: list[InsightGenerated],
    audits: list[dict[str, Any]],
    woot_files: int,
    seconds: float,
) -> int:
    by_outcome = Counter((a["channel"], a["outcome"]) for a in audits)
    wanted = Counter((i.tenant_id, i.insight_id) for i in planned)
    got = Counter((a["tenant_id"], a["insight_id"]) for a in audits)
    lost = sum(1 for key in wanted if key not in got)
    doubled = sum(n - 1 for n in got.values() if n > 1)
    patches = len(fakes.amazon.calls("PATCH"))
    bulk = [r for r in fakes.ebay.calls("POST") if r.path.endswith("bulk_update_price_quantity")]
    print(f"insights    {len(planned)} over {len({i.tenant_id for i in planned})} tenants")
    print(f"audited     {len(audits)} in {seconds:.1f}s ({len(audits) / seconds:.0f}/s)")
    print(f"outcomes    {dict(sorted(by_outcome.items()))}")
    print(
        f"amazon      {patches} PATCH answered (incl. 429s: {fakes.amazon.throttled}); "
        f"max {fakes.amazon.max_per_second()} requests/s for one seller (limit 5/s, burst 10)"
    )
    print(f"ebay        {len(bulk)} bulk updates, {len(fakes.ebay.calls('GET'))} offer lookups")
    print(f"woot        {woot_files} update files written")
    print(f"lost        {lost}; done twice {doubled}")
    breached = fakes.amazon.throttled
    print(f"rate        {'breached: ' + str(breached) + ' answered 429' if breached else 'kept'}")
    return 0 if lost == 0 and doubled == 0 and breached == 0 else 1


async def drive(
    endpoints: StackEndpoints, fakes: Marketplaces, state_dir: Path, total: int, tenant_count: int
) -> int:
    rng = random.Random(20261102)
    env = {**os.environ, **{f"APP_{k.upper()}": v for k, v in fakes.settings().items()}}
    s3 = S3Settings(
        bucket=endpoints.s3_bucket,
        region=endpoints.s3_region,
        endpoint_url=endpoints.s3_endpoint_url,
        access_key_id=endpoints.s3_access_key_id or None,
        secret_access_key=endpoints.s3_secret_access_key or None,
    )
    async with open_object_store(s3) as store:
        await store.ensure_bucket()
        tenants = await _tenants(store, tenant_count, rng)
        with ServiceProcesses.for_stack(endpoints, state_dir, parent_env=env) as processes:
            processes.start("channels")
            await _stream_declared(endpoints.nats_url)
            await _publish(endpoints.nats_url, _setup_events(tenants))
            await _settled(endpoints.nats_url, ("tenant-configured", "offers-merged"))
            planned = _insights(tenants, total, rng)
            started = time.monotonic()
            await _publish(endpoints.nats_url, list(planned))
            audits = await _audited(endpoints.nats_url, set(tenants), total)
            seconds = time.monotonic() - started
            await _settled(endpoints.nats_url, ("insight-generated",))
            audits = await _audited(endpoints.nats_url, set(tenants), total + 1, settle=5.0)
        woot = sum([len(await store.list_objects(f"tenants/{t}/channels/woot/")) for t in tenants])
    return _report(fakes, planned, audits, woot, seconds)


async def run(total: int, tenant_count: int) -> int:
    os.environ.setdefault("APP_SECRET_KEY", secrets.token_hex(32))
    state_dir = Path(tempfile.mkdtemp(prefix="relay-bench-channels-"))
    try:
        async with fake_marketplaces() as fakes:
            with EmbeddedStack(state_dir, env=os.environ) as stack:
                print(f"stack ready; fakes at {fakes.amazon_url}, {fakes.ebay_url}", flush=True)
                return await drive(stack.endpoints, fakes, state_dir, total, tenant_count)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--insights", type=int, default=1000, help="insights to act on (default 1000)"
    )
    parser.add_argument("--tenants", type=int, default=10, help="merchants (default 10)")
    args = parser.parse_args()
    if args.insights < 1 or args.tenants < 1:
        parser.error("--insights and --tenants must be positive")
    return asyncio.run(run(args.insights, args.tenants))


if __name__ == "__main__":
    sys.exit(main())
