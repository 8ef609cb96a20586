"""What the channels service tests expect: the audit event of an action, and the requests
the fake marketplaces received for a tenant or sku."""

from __future__ import annotations

from typing import Any

from relay_channels.domain.decisions import action_id
from relay_shared import subjects
from tests.channels.harness import Service
from tests.support.fake_marketplaces import MARKETPLACE_ID

PATCH_QTY_0 = {
    "productType": "PRODUCT",
    "patches": [
        {
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}],
        }
    ],
}


def audit(
    tenant: str,
    event: Any,
    action: str,
    outcome: str,
    dry_run: bool,
    request: dict[str, Any],
    answer: str | None = None,
    **after: Any,
) -> dict[str, Any]:
    """The channel.acted event expected (without occurred_at and duration_ms)."""
    aid = action_id(tenant, event.channel, event.insight_id, action)
    return {
        "schema_version": 1,
        "event_id": f"{subjects.CHANNEL_ACTED}:{aid}",
        "tenant_id": tenant,
        "correlation_id": event.correlation_id,
        "action_id": aid,
        "insight_id": event.insight_id,
        "channel": event.channel,
        "sku": event.sku,
        "action": action,
        "outcome": outcome,
        "dry_run": dry_run,
        "request": request,
        "answer": answer,
        "status_after": after.get("status_after"),
        "price_after": after.get("price_after"),
        "artifact_key": after.get("artifact_key"),
    }


def amazon_url(service: Service, tenant: str, sku: str) -> str:
    return (
        f"{service.fakes.amazon_url}/listings/2021-08-01/items/S-{tenant}/{sku}"
        f"?marketplaceIds={MARKETPLACE_ID}"
    )


def woot_key(tenant: str, event: Any, action: str) -> str:
    aid = action_id(tenant, event.channel, event.insight_id, action)
    return f"tenants/{tenant}/channels/woot/updates/2026-06-01/{aid}.csv"


def amazon_calls(service: Service, tenant: str) -> list[tuple[str, str, Any]]:
    return [
        (r.method, r.path.rsplit("/", 1)[-1], r.body)
        for r in service.fakes.amazon.calls()
        if f"/S-{tenant}/" in r.path
    ]


def ebay_calls(service: Service, *skus: str) -> list[tuple[str, str, Any]]:
    return [
        (r.method, r.path, r.body)
        for r in service.fakes.ebay.calls()
        if r.query.get("sku") in skus
        or any(f"O-{sku}" in r.path or f'"{sku}"' in str(r.body).replace("'", '"') for sku in skus)
    ]
