"""``relay demo``: the whole product on the embedded stack, from the example tenant.

Starts a throwaway embedded stack and every service as a process, then drives the REST API
as a merchant would: create the tenant, put its config and SKU map, upload the vendor feeds,
run, follow the run, save the merged feed under ``--out``, post a signed ShipStation order and
show the insight and the channel workbook row it produced. Everything is stopped at the end.
With ``--google-fake`` the tenant's sheets live on a local fake of Google (``google_fake``)
and the channel spreadsheet's Listings, Orders and Insights rows are printed from it.

The terminal gets short progress lines; the services' JSON logs and relay's own (relay.log)
are kept in the printed log folder (the rest of the throwaway state is removed).
``--json-logs`` writes those JSON lines to stderr as well.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import yaml

from relay_cli.bus_watch import collect, nats_client
from relay_cli.demo_explain import show_explain
from relay_cli.demo_google import google_env, print_google_sheet
from relay_cli.demo_output import (
    print_insight,
    print_run,
    print_summary,
    print_workbook_row,
    say,
)
from relay_cli.demo_preview import show_preview
from relay_cli.gateway_client import GatewayClient
from relay_cli.google_fake import FLAG_HELP, google_fake, google_sheets_section
from relay_cli.log_config import add_json_logs_flag, terminal_logging
from relay_cli.services import SERVICES
from relay_cli.stack import EmbeddedStack, ServiceProcesses, free_port, wait_for_http_ok
from relay_cli.stack.log_follow import followed_if

if TYPE_CHECKING:
    from relay_sheets.devfake.running import FakeGoogleThread

DEMO_TENANT_NAME = "Acme Parts"
FEED_TYPES = {".csv": "text/csv", ".json": "application/json", ".jsonl": "application/x-ndjson"}
FEED_TYPES[".xlsx"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class DemoSecrets:
    admin_key: str
    secret_key: str
    webhook_secret: str

    @classmethod
    def fresh(cls) -> DemoSecrets:
        return cls(
            admin_key="rk_demo_admin_" + secrets.token_hex(16),
            secret_key=secrets.token_hex(32),
            webhook_secret=secrets.token_hex(16),
        )

    def env(self) -> dict[str, str]:
        return {
            "APP_BOOTSTRAP_ADMIN_KEY": self.admin_key,
            "APP_SECRET_KEY": self.secret_key,
            "APP_WEBHOOK_SECRETS": self.webhook_secret,
        }


@dataclass(frozen=True)
class DemoContext:
    gateway_url: str
    nats_url: str
    stream: str
    state_dir: Path
    examples: Path
    out_dir: Path
    secrets: DemoSecrets
    google: FakeGoogleThread | None = None  # --google-fake: the tenant's sheets are there


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="run the example tenant end to end, then stop")
    parser.add_argument(
        "--examples",
        type=Path,
        default=Path("examples/acme_parts"),
        help="the demo tenant's folder (tenant.yaml, feeds/, ...); default %(default)s",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out"), help="where the merged feed is saved"
    )
    parser.add_argument("--google-fake", action="store_true", help=FLAG_HELP)
    add_json_logs_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    demo_secrets = DemoSecrets.fresh()
    env = {**os.environ, **demo_secrets.env()}
    port = free_port()
    json_logs: bool = args.json_logs
    with (
        _state_dir() as state_dir,
        terminal_logging(json_logs, state_dir / "logs"),
        EmbeddedStack(state_dir, env=env) as stack,
        ExitStack() as google_stack,
    ):
        say(f"stack ready: NATS {stack.endpoints.nats_url}, S3 {stack.endpoints.s3_endpoint_url}")
        say(f"logs in {stack.log_dir}")
        google = (
            google_stack.enter_context(google_fake(state_dir, say)) if args.google_fake else None
        )
        with (
            ServiceProcesses.for_stack(
                stack.endpoints, state_dir, http_port=port, parent_env={**env, **google_env(google)}
            ) as services,
            followed_if(json_logs, [services.log_path(n) for n in SERVICES], sys.stderr),
        ):
            started = time.monotonic()
            services.start_all()
            gateway_url = f"http://127.0.0.1:{port}"
            wait_for_http_ok(f"{gateway_url}/v1/ready", timeout=90.0)
            say(f"services ready in {time.monotonic() - started:.2f}s; gateway {gateway_url}")
            context = DemoContext(
                gateway_url=gateway_url,
                nats_url=stack.endpoints.nats_url,
                stream=env.get("APP_NATS_STREAM", "RELAY"),
                state_dir=state_dir,
                examples=args.examples,
                out_dir=args.out,
                secrets=demo_secrets,
                google=google,
            )
            code = asyncio.run(drive(context))
        say("stopping services and the stack")
    return code


@contextmanager
def _state_dir() -> Iterator[Path]:
    """A throwaway state folder; only its ``logs`` folder outlives the demo."""
    path = Path(tempfile.mkdtemp(prefix="relay-demo-"))
    try:
        yield path
    finally:
        for child in path.iterdir():
            if child.name == "logs":
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        say(f"logs kept in {path / 'logs'}")


async def drive(context: DemoContext) -> int:
    config_text = (context.examples / "tenant.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(config_text)
    if context.google is not None:  # the tenant's sheets on the fake's shared drive
        config["sheets"] = google_sheets_section(context.google.drive_id)
        config_text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    tenant_id: str = config["tenant_id"]
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, context.gateway_url, context.secrets.admin_key)
        owner = admin.as_key(
            await admin.create_tenant(tenant_id, DEMO_TENANT_NAME, sorted(config["channels"]))
        )
        version = await owner.put_config(tenant_id, config_text)
        say(f"tenant {tenant_id} created; config version {version}")
        await upload_inputs(owner, context.examples, config)
        run = await owner.start_run(tenant_id)
        say(f"run {run['run_id']} {run['status']} (config version {run['config_version']})")
        async with asyncio.timeout(180):
            final = await owner.wait_for_run(run["run_id"], on_change=print_run)
        print_summary(final)
        if final["status"] != "SUCCEEDED":
            return 1
        await save_artifacts(owner, final["run_id"], context.out_dir)
        merged_csv = (context.out_dir / "merged_inventory.csv").read_bytes()
        await show_explain(owner, final["run_id"], merged_csv)
        await show_preview(owner, tenant_id, config)
        await ship_sample_order(owner, context, tenant_id)
    return 0


async def upload_inputs(owner: GatewayClient, examples: Path, config: dict[str, Any]) -> None:
    tenant_id = config["tenant_id"]
    for vendor in config["vendors"]:
        vendor_id = vendor["vendor_id"]
        sku_map = examples / f"sku_map_{vendor_id}.csv"
        if sku_map.exists():
            result = await owner.put_sku_map(tenant_id, vendor_id, sku_map.read_bytes())
            say(f"  sku map {vendor_id}: {result['rows']} rows")
        feed = next(iter(sorted((examples / "feeds").glob(f"{vendor_id}.*"))))
        uploaded = await owner.upload_feed(
            tenant_id, vendor_id, feed.read_bytes(), FEED_TYPES[feed.suffix]
        )
        say(f"  uploaded {feed.name}: {uploaded['size']} bytes, sha256 {uploaded['sha256'][:12]}…")


async def save_artifacts(owner: GatewayClient, run_id: str, out_dir: Path) -> None:
    run_dir = out_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    for artifact in await owner.artifacts(run_id):
        body = await owner.download(artifact["url"])
        target = run_dir / artifact["name"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        if artifact["name"] == "merged_inventory.csv":
            (out_dir / "merged_inventory.csv").write_bytes(body)
            say(f"merged feed saved to {out_dir / 'merged_inventory.csv'}:")
            say(body.decode("utf-8").rstrip("\n"))
    say(f"all artifacts saved under {run_dir}")


async def ship_sample_order(owner: GatewayClient, context: DemoContext, tenant_id: str) -> None:
    order = json.loads((context.examples / "shipstation_order.json").read_text(encoding="utf-8"))
    order["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(order).encode()
    answer = await owner.post_shipstation(body, context.secrets.webhook_secret)
    item = order["order"]["items"][0]
    say(
        f"ShipStation order {order['order']['order_id']} ({item['quantity']} × {item['sku']} on "
        f"{order['order']['channel']}) → HTTP {answer.status}"
    )
    async with nats_client(context.nats_url) as client:
        events = await collect(
            client,
            context.stream,
            "insight.generated",
            until=lambda e: e["tenant_id"] == tenant_id and e["sku"] == item["sku"],
            timeout=60.0,
        )
    print_insight(events[-1])
    channel = order["order"]["channel"]
    if context.google is not None:
        await print_google_sheet(context.google, DEMO_TENANT_NAME, channel, item["sku"])
        return
    await print_workbook_row(context.state_dir, tenant_id, channel, item["sku"])
