"""What the insights and sheets tests feed their services: a tenant config with channels,
a merged feed in S3, and the offers.merged / order.shipped events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from relay_shared import keys, subjects
from relay_shared.events import OffersMerged, OrderItem, OrderShipped
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
