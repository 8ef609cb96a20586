"""Helpers for the insights service tests: the tenant config, events, and waiting on the
service's durable consumers (by reading JetStream, with a deadline)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nats.aio.client import Client
from nats.js.errors import NotFoundError

from relay_shared import keys, subjects
from relay_shared.events import Event, OffersMerged, OrderItem, OrderShipped
from relay_shared.storage import ObjectStore

MERGED_HEADER = "sku,quantity_available,price,title,vendor_id,updated_at\n"


def tenant_config(tenant_id: str, insights: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "vendors": [
            {
                "vendor_id": "v1",
                "parser": {"column_map": {"sku": "SKU", "quantity_available": "QTY"}},
            }
        ],
        "pricing": {"base_margin_pct": 0.2},
        "output": {
            "columns": ["sku", "quantity_available", "price", "title", "vendor_id", "updated_at"]
        },
        "channels": {
            "amazon": {"allocation": {"share_pct": 100, "buffer": 2}},
            "ebay": {"allocation": {"share_pct": 50, "buffer": 0, "max_qty": 3}},
            "woot": {"enabled": False},
        },
        "insights": insights or {},
    }


async def put_merged(store: ObjectStore, tenant_id: str, run_id: str, rows: Sequence[str]) -> str:
    key = keys.output_key(tenant_id, run_id, "merged_inventory.csv")
    await store.put_bytes(key, (MERGED_HEADER + "".join(f"{r}\n" for r in rows)).encode())
    return key


def offers_merged(
    tenant_id: str, run_id: str, merged_key: str, at: datetime, version: int = 1
) -> OffersMerged:
    return OffersMerged(
        event_id=f"{subjects.OFFERS_MERGED}:{tenant_id}:{run_id}",
        occurred_at=at,
        tenant_id=tenant_id,
        correlation_id=f"corr-{run_id}",
        run_id=run_id,
        config_version=version,
        merged_key=merged_key,
        summary_key=keys.report_key(tenant_id, run_id, "run_summary.json"),
        errors_key=keys.report_key(tenant_id, run_id, "errors.json"),
        merged_rows=3,
        skus_left_out=0,
        vendors={},
    )


def order_shipped(
    tenant_id: str,
    event_id: str,
    order_id: str,
    channel: str,
    items: Sequence[tuple[str, int]],
    at: datetime,
) -> OrderShipped:
    return OrderShipped(
        event_id=event_id,
        occurred_at=at,
        tenant_id=tenant_id,
        correlation_id=f"corr-{event_id}",
        order_id=order_id,
        channel=channel,
        status="shipped",
        shipped_at=at,
        items=[OrderItem(sku=sku, quantity=quantity) for sku, quantity in items],
    )


async def publish(client: Client, stream: str, event: Event) -> int:
    """Publish like the services do (Nats-Msg-Id = event_id); the stream sequence."""
    ack = await client.jetstream().publish(
        event.subject,
        event.model_dump_json().encode(),
        stream=stream,
        headers={"Nats-Msg-Id": event.event_id},
    )
    return int(ack.seq)


async def wait_consumed(
    client: Client, stream: str, durable: str, seq: int, wait_s: float = 30.0
) -> None:
    """Until ``durable`` has acknowledged (or terminated) every message up to ``seq``."""
    js = client.jetstream()
    deadline = time.monotonic() + wait_s
    while True:
        try:
            info = await js.consumer_info(stream, durable)
            if info.ack_floor is not None and (info.ack_floor.stream_seq or 0) >= seq:
                return
        except NotFoundError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{durable} did not consume up to {seq} within {wait_s}s")
        await asyncio.sleep(0.05)


async def delete_streams(client: Client, stream: str) -> None:
    js = client.jetstream()
    for name in (stream, subjects.dead_letter_stream(stream)):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)
