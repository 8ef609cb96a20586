"""Listings import (PUT …/channels/{channel}/listings) and the tenant's channels as one truth:
TenantConfigured on creation and on each config, default sections in the shared version."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from openpyxl import Workbook

from relay_shared import subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.storage import ObjectStore
from tests.gateway.harness import (
    Gateway,
    api_key,
    auth,
    create_tenant,
    feed_config,
    stream_events,
    watch,
)

pytestmark = pytest.mark.stack

GOOD_CSV = (
    b"SKU,Title,Quantity,Status,Listed_Date,Notes\n"
    b"MUG-2,Blue mug,3,paused,2026-01-15,fragile\n"
    b"MUG-1,Red mug,0,,2025-12-01,\n"
)
CANONICAL = (
    b"sku,title,quantity,status,listed_date\n"
    b"MUG-1,Red mug,0,active,2025-12-01\n"
    b"MUG-2,Blue mug,3,paused,2026-01-15\n"
)
SHA = hashlib.sha256(CANONICAL).hexdigest()


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _put(gateway: Gateway, key: str, path: str, body: bytes, kind: str = "text/csv") -> Any:
    response = await gateway.client.put(
        path, data=body, headers={**auth(key), "Content-Type": kind}
    )
    return response.status, await response.json()


async def test_a_listings_file_is_stored_canonical_and_announced_once(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    operator = await api_key(gateway, tenant_id, owner, "operator")
    path = f"/v1/tenants/{tenant_id}/channels/ebay/listings"

    async with watch(gateway.nats_url, subjects.LISTINGS_IMPORTED) as imported:
        first = await _put(gateway, operator, path, GOOD_CSV)
        event, _ = await imported.next_matching(lambda e: e["tenant_id"] == tenant_id)
        second = await _put(gateway, operator, path, GOOD_CSV)
        await imported.none_matching(lambda e: e["tenant_id"] == tenant_id)

    key = f"tenants/{tenant_id}/listings/ebay/{SHA}.csv"
    accepted = {"tenant_id": tenant_id, "channel": "ebay", "listings_key": key, "sha256": SHA}
    assert first == (202, {**accepted, "rows": 2})
    assert second == first
    assert await object_store.get_bytes(key) == CANONICAL
    assert {k: v for k, v in event.items() if k not in ("occurred_at", "correlation_id")} == {
        "schema_version": 1,
        "event_id": f"listings.imported:{tenant_id}:ebay:{SHA}",
        "tenant_id": tenant_id,
        "channel": "ebay",
        "listings_key": key,
        "sha256": SHA,
        "rows": 2,
        "source": "api",
    }
    everything = await stream_events(gateway.nats_url, subjects.LISTINGS_IMPORTED)
    assert [e["event_id"] for e in everything if e["tenant_id"] == tenant_id] == [event["event_id"]]


async def test_an_xlsx_file_with_the_same_listings_is_the_same_import(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    data = _xlsx(
        [
            ["sku", "title", "quantity", "status", "listed_date"],
            ["MUG-2", "Blue mug", 3, "Paused", "2026-01-15"],
            ["MUG-1", "Red mug", 0, None, "2025-12-01"],
        ]
    )
    path = f"/v1/tenants/{tenant_id}/channels/amazon/listings"
    status, body = await _put(gateway, owner, path, data, "application/octet-stream")

    assert (status, body["sha256"], body["rows"]) == (202, SHA, 2)


BAD_CSV = (
    b"sku,title,quantity,status,listed_date\n"
    b"A-1,Lamp,2,active,2026-02-30\n"
    b"A-2,Lamp,-1,active,2026-01-01\n"
    b"A-1,Lamp again,1,active,2026-01-01\n"
    b"A-3,Lamp,many,sold,yesterday\n"
)


async def test_every_bad_row_and_column_is_a_422(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    path = f"/v1/tenants/{tenant_id}/channels/amazon/listings"

    status, body = await _put(gateway, owner, path, BAD_CSV)

    assert status == 422
    assert body["error"]["code"] == "invalid_listings"
    assert body["error"]["details"]["problems"] == [
        {"path": "rows[2].listed_date", "message": "must be a date YYYY-MM-DD (got '2026-02-30')"},
        {"path": "rows[3].quantity", "message": "must not be negative (got -1)"},
        {"path": "rows[4].sku", "message": "duplicate sku 'A-1' (first on row 2)"},
        {"path": "rows[5].quantity", "message": "must be a whole number ≥ 0 (got 'many')"},
        {
            "path": "rows[5].status",
            "message": "must be one of active, paused, delisted (got 'sold')",
        },
        {"path": "rows[5].listed_date", "message": "must be a date YYYY-MM-DD (got 'yesterday')"},
    ]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            b"code,quantity\nA,1\n",
            [{"path": "rows[1].sku", "message": "missing column"}],
        ),
        (
            ",".join(["sku", "quantity", *(f"extra{i}" for i in range(9_998))]).encode()
            + b"\nA,1\n",
            [
                {
                    "path": "rows[1]",
                    "message": "the header has 10000 columns, above the limit of 200",
                }
            ],
        ),
        (b"", [{"path": "", "message": "the file has no header row"}]),
        (
            b"PK\x03\x04not a zip",
            [{"path": "", "message": "not a readable XLSX workbook"}],
        ),
    ],
)
async def test_files_that_cannot_be_listings_are_422(
    gateway: Gateway, unique_id: str, body: bytes, problems: list[dict[str, str]]
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    path = f"/v1/tenants/{tenant_id}/channels/amazon/listings"

    status, answer = await _put(gateway, owner, path, body)

    assert (status, answer["error"]["details"]["problems"]) == (422, problems)


async def test_listings_need_a_channel_of_the_tenant_and_the_operator_role(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    viewer = await api_key(gateway, tenant_id, owner, "viewer")
    base = f"/v1/tenants/{tenant_id}/channels"

    woot, body = await _put(gateway, owner, f"{base}/woot/listings", GOOD_CSV)
    denied, _ = await _put(gateway, viewer, f"{base}/amazon/listings", GOOD_CSV)
    config = {**feed_config(tenant_id), "channels": {"woot": {"dry_run": True}}}
    saved = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config", json=config, headers=auth(owner)
    )
    added, _ = await _put(gateway, owner, f"{base}/woot/listings", GOOD_CSV)

    assert (woot, body["error"]["code"]) == (404, "unknown_channel")
    assert denied == 403
    assert (saved.status, added) == (201, 202)


async def test_tenant_channels_get_default_sections_and_are_announced(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    async with watch(gateway.nats_url, subjects.TENANT_CONFIGURED) as configured:
        owner = await create_tenant(gateway, tenant_id, ("amazon", "ebay", "woot"))
        created, _ = await configured.next_matching(lambda e: e["tenant_id"] == tenant_id)
        plain = await gateway.client.put(
            f"/v1/tenants/{tenant_id}/config", json=feed_config(tenant_id), headers=auth(owner)
        )
        first, _ = await configured.next_matching(lambda e: e["tenant_id"] == tenant_id)
        extra = {**feed_config(tenant_id), "channels": {"shop": {"plugin": "woot"}}}
        more = await gateway.client.put(
            f"/v1/tenants/{tenant_id}/config", json=extra, headers=auth(owner)
        )
        second, _ = await configured.next_matching(lambda e: e["tenant_id"] == tenant_id)

    assert (plain.status, more.status) == (201, 201)
    announced = [
        (e["event_id"], e["name"], e["channels"], e["config_version"])
        for e in (created, first, second)
    ]
    assert announced == [
        (
            f"tenant.configured:{tenant_id}:0",
            f"Tenant {tenant_id}",
            ["amazon", "ebay", "woot"],
            None,
        ),
        (f"tenant.configured:{tenant_id}:1", f"Tenant {tenant_id}", ["amazon", "ebay", "woot"], 1),
        (
            f"tenant.configured:{tenant_id}:2",
            f"Tenant {tenant_id}",
            ["amazon", "ebay", "shop", "woot"],
            2,
        ),
    ]
    configs = TenantConfigStore(object_store)
    assert (await configs.load(tenant_id, 1)).channels == {"amazon": {}, "ebay": {}, "woot": {}}
    sections = await configs.load_channel_sections(tenant_id, 2)
    assert sorted(sections.enabled_channels()) == ["amazon", "ebay", "shop", "woot"]
    assert sections.channels["amazon"].dry_run is True
    assert sections.channels["amazon"].allocation.buffer == 0
    assert sections.channels["shop"].plugin == "woot"


@pytest.mark.parametrize(
    ("sections", "problem"),
    [
        (
            {"channels": {"amazon": {"allocation": {"share_pct": 150}}}},
            {
                "path": "channels.amazon.allocation.share_pct",
                "message": "Input should be less than or equal to 100",
            },
        ),
        (
            {"channels": {"ebay": {"insights": ["slow_mover", "nope"]}}},
            {
                "path": "channels.ebay.insights[1]",
                "message": "Input should be 'out_of_stock', 'slow_mover', 'aged' or"
                " 'reallocation_candidate'",
            },
        ),
        (
            {"insights": {"evaluate_daily_at": "25:00"}},
            {
                "path": "insights.evaluate_daily_at",
                "message": "must be a time of day HH:MM (24-hour)",
            },
        ),
        (
            {"sheets": {"backend": "excel"}},
            {"path": "sheets.backend", "message": "Input should be 'xlsx' or 'google'"},
        ),
    ],
)
async def test_bad_channel_insights_and_sheets_sections_are_422(
    gateway: Gateway, unique_id: str, sections: dict[str, Any], problem: dict[str, str]
) -> None:
    tenant_id = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)

    response = await gateway.client.put(
        f"/v1/tenants/{tenant_id}/config",
        json={**feed_config(tenant_id), **sections},
        headers=auth(owner),
    )

    assert response.status == 422
    assert (await response.json())["error"]["details"]["problems"] == [problem]
