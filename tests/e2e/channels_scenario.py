"""The three-channel tenant of the channels end-to-end test: its config, feed, listings and
ShipStation shipments, and the values expected from them, worked by hand.

One vendor feeds two skus (pricing: cost × 1.20, ``min_price`` 10.00):

| sku | merged qty | price | MAP |
|---|---|---|---|
| KTL-100 | 6 | 24.00 | 22.00 |
| MUG-200 | 40 | 12.00 | — |

Channel quantities (``min(max_qty, max(0, floor(qty × share / 100) − buffer))``):
amazon 50 % → KTL 3, MUG 20; ebay 50 % buffer 1 → KTL 2, MUG 19; woot 100 % max 10 → KTL 6,
MUG 10. Slow-mover reprices, never below the floor (``map``: max(min_price, MAP)):
amazon −5 % MUG 12.00 → 11.40; ebay −10 % KTL 21.60 → floor 22.00, MUG → 10.80;
woot −20 % KTL 19.20 → floor 22.00, MUG 9.60 → floor 10.00.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from relay_channels.domain.decisions import action_id
from relay_insights.domain.transitions import insight_id
from tests.support.fake_marketplaces import AMAZON_CREDENTIALS, EBAY_CREDENTIALS, MARKETPLACE_ID

CHANNELS = ["amazon", "ebay", "woot"]
VENDOR = "kitchen"
FEED = b"SKU,QTY,COST,MAP,Title\nKTL-100,6,20.00,22.00,Kettle\nMUG-200,40,10.00,,Mug\n"
MERGED = [
    ["sku", "quantity_available", "price", "map_price", "title"],
    ["KTL-100", "6", "24.00", "22.00", "Kettle"],
    ["MUG-200", "40", "12.00", "", "Mug"],
]
QUANTITIES = {
    ("amazon", "KTL-100"): 3,
    ("amazon", "MUG-200"): 20,
    ("ebay", "KTL-100"): 2,
    ("ebay", "MUG-200"): 19,
    ("woot", "KTL-100"): 6,
    ("woot", "MUG-200"): 10,
}
REPRICED = {
    ("amazon", "MUG-200"): "11.40",
    ("ebay", "KTL-100"): "22.00",
    ("ebay", "MUG-200"): "10.80",
    ("woot", "KTL-100"): "22.00",
    ("woot", "MUG-200"): "10.00",
}
STORES = {"amazon": 101, "ebay": 102, "woot": 103}
SS_KEY, SS_SECRET, SS_TOKEN = "ss-e2e-key", "ss-e2e-secret", "ss-e2e-webhook-token"


def seller(tenant: str) -> str:
    return f"S-{tenant}"


def _channel_yaml(tenant: str, live: bool) -> str:
    amazon_secrets = ebay_secrets = dry = ""
    if live:
        dry = "\n    dry_run: false"
        amazon_secrets = f"\n    credentials: {json.dumps(AMAZON_CREDENTIALS)}"
        ebay_secrets = f"\n    credentials: {json.dumps(EBAY_CREDENTIALS)}"
    return f"""channels:
  amazon:
    allocation: {{share_pct: 50, buffer: 0}}
    insights: [out_of_stock, slow_mover]
    actions: {{out_of_stock: pause, slow_mover: {{reprice_pct: -5, floor: map}}}}
    account: {{seller_id: "{seller(tenant)}", marketplace_id: "{MARKETPLACE_ID}"}}\
{amazon_secrets}{dry}
  ebay:
    allocation: {{share_pct: 50, buffer: 1}}
    insights: [out_of_stock, slow_mover]
    actions: {{out_of_stock: pause, slow_mover: {{reprice_pct: -10}}}}{ebay_secrets}{dry}
  woot:
    allocation: {{share_pct: 100, buffer: 0, max_qty: 10}}
    insights: [out_of_stock, slow_mover]
    actions: {{out_of_stock: pause, slow_mover: {{reprice_pct: -20}}}}{dry}
"""


def config_yaml(tenant: str, *, live: bool) -> str:
    """Version 1 (``live`` False: every channel dry-run, the default) or 2 (dry-run off, the
    marketplace credentials given)."""
    stores = ", ".join(f'"{store}": {channel}' for channel, store in STORES.items())
    return f"""tenant_id: "{tenant}"
timezone: "UTC"
default_currency: "USD"
vendors:
  - vendor_id: "{VENDOR}"
    parser:
      format: "csv"
      column_map: {{sku: "SKU", quantity_available: "QTY", cost: "COST", map_price: "MAP",
                   title: "Title"}}
pricing:
  base_margin_pct: 0.20
  min_price: 10.00
output:
  format: "csv"
  columns: [sku, quantity_available, price, map_price, title]
shipstation:
  webhook_token: "{SS_TOKEN}"
  api_key: "{SS_KEY}"
  api_secret: "{SS_SECRET}"
  store_channels: {{{stores}}}
{_channel_yaml(tenant, live)}insights:
  slow_after_days: 30
  evaluate_daily_at: "06:00"
sheets:
  backend: xlsx
"""


def listings_csv(listed: date) -> bytes:
    """A channel's listings file: both skus, listed ``listed`` (the merged feed then sets
    their quantities); an extra column the import ignores."""
    day = listed.isoformat()
    return (
        "sku,title,quantity,status,listed_date,notes\n"
        f"KTL-100,Kettle,1,active,{day},shelf A\n"
        f"MUG-200,Mug,1,active,{day},\n"
    ).encode()


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def insight(
    tenant: str,
    channel: str,
    sku: str,
    kind: str,
    opened_by: str,
    status: str,
    since: datetime,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """An insight as ``GET …/insights`` shows it (``since`` as a datetime)."""
    return {
        "insight_id": insight_id(tenant, channel, sku, kind, opened_by),
        "channel": channel,
        "sku": sku,
        "kind": kind,
        "status": status,
        "since": since,
        "detail": detail,
    }


def slow_detail(channel: str, sku: str, listed: date) -> dict[str, Any]:
    return {
        "quantity": QUANTITIES[(channel, sku)],
        "listed_date": f"{listed.isoformat()}T00:00:00Z",
        "last_sold_at": None,
    }


def reallocation_detail(origin: str, sku: str) -> dict[str, Any]:
    return {
        "origin_channel": origin,
        "target_channel": "amazon",
        "reason": "slow_mover",
        "target_reason": "out_of_stock",
        "quantity": QUANTITIES[(origin, sku)],
    }


def amazon_request(base_url: str, tenant: str, sku: str, patch: dict[str, Any]) -> dict[str, Any]:
    path = f"/listings/2021-08-01/items/{seller(tenant)}/{sku}"
    return {
        "method": "PATCH",
        "url": f"{base_url}{path}?marketplaceIds={MARKETPLACE_ID}",
        "body": {"productType": "PRODUCT", "patches": [patch]},
    }


def amazon_quantity(quantity: int) -> dict[str, Any]:
    return {
        "op": "merge",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
    }


def amazon_price(price: str) -> dict[str, Any]:
    return {
        "op": "replace",
        "path": "/attributes/purchasable_offer",
        "value": [
            {
                "marketplace_id": MARKETPLACE_ID,
                "currency": "USD",
                "our_price": [{"schedule": [{"value_with_tax": price}]}],
            }
        ],
    }


def ebay_request(base_url: str, sku: str, offer: dict[str, Any] | None) -> dict[str, Any]:
    """The bulk update of ``sku`` (``offer``: its one offer's change; None in a dry run,
    where the offer ids are not looked up)."""
    request: dict[str, Any] = {"sku": sku, "offers": [] if offer is None else [offer]}
    if offer is not None and "availableQuantity" in offer:
        request["shipToLocationAvailability"] = {"quantity": offer["availableQuantity"]}
    return {
        "method": "POST",
        "url": f"{base_url}/sell/inventory/v1/bulk_update_price_quantity",
        "body": {"requests": [request]},
        "lookup": f"{base_url}/sell/inventory/v1/offer?sku={sku}",
    }


def woot_key(tenant: str, iid: str, action: str, day: date) -> str:
    aid = action_id(tenant, "woot", iid, action)
    return f"tenants/{tenant}/channels/woot/updates/{day.isoformat()}/{aid}.csv"


def woot_request(key: str, sku: str, quantity: str, price: str, status: str) -> dict[str, Any]:
    return {
        "method": "PUT",
        "url": key,
        "body": f"sku,quantity,price,status\n{sku},{quantity},{price},{status}\n",
    }


def audit_row(
    tenant: str,
    found: dict[str, Any],
    action: str,
    request: dict[str, Any],
    **outcome: Any,
) -> dict[str, Any]:
    """An audit row as ``GET …/channels/{c}/actions`` shows it (without its time and
    duration) for the insight ``found``; dry-run unless ``outcome`` says otherwise."""
    channel, iid = found["channel"], found["insight_id"]
    return {
        "action_id": action_id(tenant, channel, iid, action),
        "insight_id": iid,
        "channel": channel,
        "sku": found["sku"],
        "action": action,
        "outcome": outcome.get("outcome", "dry_run"),
        "dry_run": outcome.get("outcome", "dry_run") == "dry_run",
        "request": request,
        "answer": outcome.get("answer"),
        "status_after": outcome.get("status_after"),
        "price_after": outcome.get("price_after"),
        "artifact_key": outcome.get("artifact_key"),
    }
