"""Driving feed runs without the gateway, and reading back everything a run left behind:
its messages per subject, its objects, its consumers' delivery counts. Waits have deadlines;
nothing sleeps for a fixed time."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from relay_shared import keys, subjects
from relay_shared.bus.publishing import MSG_ID_HEADER
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import RunRequested
from relay_shared.explain import index_format as explain_index
from relay_shared.explain import source_format
from relay_shared.storage import ObjectStore
from tests.support.jetstream import NOT_YET, wait_for_durables
from tests.support.polling import wait_until

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
UPLOAD_ID = "20260101T000000-0001"

V1 = b"SKU,QTY,COST\nA-1,5,10.00\nB-2,0,20.00\n"
V2 = b"Item,Stock,Price\nA-1,3,9.00\nB-2,4,25.00\nc-3,1,5.00\nD-4,ten,1.00\n"

#: The pipeline's consumers: (service, subject).
PIPELINE_CONSUMERS = (
    ("ingest", subjects.RUN_REQUESTED),
    ("normalize", subjects.FEED_RECEIVED),
    ("pricing", subjects.ROWS_NORMALIZED),
)


def tenant_config(
    tenant_id: str, *, v1_format: str = "csv", max_invalid_row_pct: float = 0.5
) -> dict[str, Any]:
    """Two required vendors; v1's parser format may be switched to provoke a parse error."""
    return {
        "tenant_id": tenant_id,
        "error_policy": {"max_invalid_row_pct": max_invalid_row_pct},
        "vendors": [
            {
                "vendor_id": "v1",
                "parser": {
                    "format": v1_format,
                    "column_map": {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"},
                },
            },
            {
                "vendor_id": "v2",
                "parser": {
                    "format": "csv",
                    "column_map": {"sku": "Item", "quantity_available": "Stock", "cost": "Price"},
                },
            },
        ],
        "pricing": {"base_margin_pct": 0.20},
    }


async def seed_tenant(
    store: ObjectStore,
    tenant_id: str,
    feeds: dict[str, bytes],
    config: dict[str, Any] | None = None,
    *,
    upload_id: str = UPLOAD_ID,
) -> None:
    """Config version 1 and one inbound file per vendor in ``feeds``."""
    await TenantConfigStore(store).save(tenant_id, 1, config or tenant_config(tenant_id))
    for vendor, body in feeds.items():
        await store.put_bytes(keys.inbound_key(tenant_id, vendor, AS_OF, upload_id, "csv"), body)


async def request_run(
    client: Client,
    stream: str,
    tenant_id: str,
    run_id: str,
    *,
    config_version: int = 1,
    force: bool = False,
) -> None:
    event = RunRequested(
        event_id=f"run.requested:{run_id}",
        occurred_at=AS_OF,
        tenant_id=tenant_id,
        correlation_id=f"corr-{run_id}",
        run_id=run_id,
        config_version=config_version,
        force=force,
    )
    await client.jetstream().publish(
        subjects.RUN_REQUESTED,
        event.model_dump_json().encode(),
        stream=stream,
        headers={MSG_ID_HEADER: event.event_id},
    )


async def stream_messages(client: Client, stream: str) -> list[tuple[str, dict[str, Any]]]:
    """Every message the stream holds now: (subject, decoded payload)."""
    js = client.jetstream()
    info = await js.stream_info(stream)
    last = info.state.last_seq
    found: list[tuple[str, dict[str, Any]]] = []
    if info.state.messages == 0:
        return found
    sub = await js.pull_subscribe(
        ">",
        stream=stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
    )
    try:
        while True:
            for msg in await sub.fetch(256, timeout=5.0):
                found.append((msg.subject, json.loads(msg.data)))
                if msg.metadata.sequence.stream >= last:
                    return found
    finally:
        await sub.unsubscribe()


def run_message_counts(messages: Iterable[tuple[str, dict[str, Any]]], run_id: str) -> Counter[str]:
    """How many messages of each subject belong to the run."""
    return Counter(
        subject
        for subject, payload in messages
        if run_id in (payload.get("run_id"), payload.get("scope_id"))
    )


def durable(service: str, subject: str) -> str:
    return subjects.durable_name(service, subject)


async def deliveries(client: Client, stream: str) -> dict[str, int]:
    """Deliveries so far (redeliveries included) of each pipeline consumer."""
    js = client.jetstream()
    counts: dict[str, int] = {}
    for service, subject in PIPELINE_CONSUMERS:
        info = await js.consumer_info(stream, durable(service, subject))
        counts[service] = int(info.delivered.consumer_seq)
    return counts


async def wait_for_consumers(client: Client, stream: str, timeout: float = 60.0) -> None:
    """Until the services have declared every pipeline consumer on ``stream``."""
    wanted = {durable(service, subject) for service, subject in PIPELINE_CONSUMERS}
    await wait_for_durables(client, stream, wanted, timeout)


async def wait_drained(client: Client, stream: str, timeout: float = 60.0) -> None:
    """Until every pipeline consumer has nothing pending and nothing unacked."""

    async def drained() -> bool:
        js = client.jetstream()
        for service, subject in PIPELINE_CONSUMERS:
            try:
                info = await js.consumer_info(stream, durable(service, subject))
            except NOT_YET:
                return False
            if info.num_pending or info.num_ack_pending:
                return False
        return True

    await wait_until(drained, timeout, "the pipeline consumers to drain")


async def wait_for_file(path: Path, timeout: float = 30.0) -> str:
    async def present() -> bool:
        return await asyncio.to_thread(path.exists)

    await wait_until(present, timeout, str(path))
    return await asyncio.to_thread(path.read_text, "utf-8")


async def tenant_objects(store: ObjectStore, tenant_id: str) -> dict[str, bytes]:
    """Every object of the tenant, by key."""
    listed = await store.list_objects(keys.tenant_prefix(tenant_id))
    return {item.key: await store.get_bytes(item.key) for item in listed}


_TIMINGS = re.compile(rb'"timings_ms": \{[^}]*\}')


def comparable_outputs(objects: dict[str, bytes], tenant_id: str, run_id: str) -> dict[str, bytes]:
    """A run's outputs with its own ids replaced (and run_summary's ``timings_ms`` emptied,
    the one block the spec lets differ), so two runs of the same inputs compare byte for
    byte. Inbound files and configs are left out."""
    found: dict[str, bytes] = {}
    for key, body in objects.items():
        if "/inbound/" in key or "/config/" in key:
            continue
        name = key.replace(tenant_id, "<tenant>").replace(run_id, "<run>")
        text = body.replace(tenant_id.encode(), b"<tenant>").replace(run_id.encode(), b"<run>")
        found[name] = _TIMINGS.sub(b'"timings_ms": {}', text)
    return found


def expected_run_keys(tenant_id: str, run_id: str, vendors: Iterable[str]) -> set[str]:
    """Every object a successful run of ``vendors`` writes (besides inputs and config)."""
    expected = {
        keys.output_key(tenant_id, run_id, "merged_inventory.csv"),
        keys.report_key(tenant_id, run_id, "errors.json"),
        keys.report_key(tenant_id, run_id, "run_summary.json"),
        # the change history: against the previous successful run (none: every SKU added)
        keys.output_key(tenant_id, run_id, "changes.csv"),
        keys.report_key(tenant_id, run_id, "sku_history.csv"),
        # the explain index: a small run's offers fit in one data part
        explain_index.manifest_key(tenant_id, run_id),
        explain_index.data_key(tenant_id, run_id, 0),
    }
    for vendor in vendors:
        expected.add(keys.normalized_key(tenant_id, vendor, run_id))
        # the same rows as Parquet beside it: pricing's hand-off (rows.normalized handoff_key)
        expected.add(f"tenants/{tenant_id}/normalized/{vendor}/{run_id}/normalized.parquet")
        expected.add(keys.findings_key(tenant_id, vendor, run_id))
        # normalize's record of the vendor's last normalized feed (unchanged-feed check)
        expected.add(f"tenants/{tenant_id}/normalized/{vendor}/last.json")
        # its index of the feed's rows as read (explain's as_read): a small feed, one part
        folder = source_format.source_folder(tenant_id, vendor, run_id)
        expected.add(source_format.source_manifest_key(tenant_id, vendor, run_id))
        expected.add(source_format.source_data_key(folder, 0))
    return expected
