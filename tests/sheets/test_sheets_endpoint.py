"""``GET /v1/tenants/{id}/sheets``: the gateway's read model of ``sheet.synced``, fed by the
real sheets service writing to the fake Google: each spreadsheet's state, and a deleted one
failed with its reason."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.storage import ObjectStore
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import Gateway, auth, create_tenant, eventually
from tests.sheets.google_stack import GoogleSheets, google_sheets
from tests.support.channel_events import order_shipped

pytestmark = pytest.mark.stack

STREAM = f"GSHEETSAPI_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROWS = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,"]


@pytest.fixture(scope="module")
async def sheets(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    object_store: ObjectStore,
) -> AsyncIterator[GoogleSheets]:
    state = tmp_path_factory.mktemp("gsheets-api")
    async with google_sheets(isolated_bus, STREAM, state, object_store) as running_sheets:
        yield running_sheets


@pytest.fixture(scope="module")
async def gateway(
    sheets: GoogleSheets, isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    state = tmp_path_factory.mktemp("gateway-sheets")
    async with serving_gateway(isolated_bus, state, nats_stream=STREAM) as running_gateway:
        yield running_gateway


async def test_the_sheets_endpoint_shows_each_spreadsheet_and_a_deleted_one_with_its_reason(
    sheets: GoogleSheets, gateway: Gateway, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant)
    await sheets.start_tenant(tenant, "Acme", "google", ROWS, T0)
    sheets.fake.delete_file(sheets.book("Acme", "ebay"))
    shipped = T0 + timedelta(hours=1)
    await sheets.send(order_shipped(tenant, f"e-{unique_id}", "O-1", "ebay", [("A-1", 1)], shipped))

    async def listed() -> dict[str, Any] | None:
        response = await gateway.client.get(f"/v1/tenants/{tenant}/sheets", headers=auth(owner))
        body: dict[str, Any] = await response.json()
        return body if response.status == 200 and body["failed"] == 1 else None

    body = await eventually(listed, deadline_s=30)

    rows = [
        (s["channel"], s["title"], s["backend"], s["state"], s["problem_code"])
        for s in body["sheets"]
    ]
    assert rows == [
        (None, "Merged feed", "google", "ok", None),
        ("amazon", "Inventory – amazon", "google", "ok", None),
        ("ebay", "Inventory – ebay", "google", "failed", "google_file_not_found"),
    ]
    failed = body["sheets"][2]
    assert failed["problem"].startswith("spreadsheet ")
    assert "not found (deleted, or never shared with Relay's service account)" in failed["problem"]
    assert all(s["file_id"] for s in body["sheets"])
    assert body["sheets"][1]["synced_at"] is not None


async def test_a_rejected_upload_shows_in_the_sheets_endpoint_with_its_reason(
    sheets: GoogleSheets, gateway: Gateway, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant)
    await sheets.start_tenant(tenant, f"Acme {unique_id}", "google", ROWS, T0)
    folder = sheets.fake.find("amazon", sheets.root_folder(f"Acme {unique_id}"))
    assert folder is not None
    upload = sheets.fake.upload_sheet("Spring stock", folder.id, [["item", "quantity"], ["A-1", 1]])

    async def listed() -> dict[str, Any] | None:
        response = await gateway.client.get(f"/v1/tenants/{tenant}/sheets", headers=auth(owner))
        body: dict[str, Any] = await response.json()
        return body if response.status == 200 and body["failed"] == 1 else None

    body = await eventually(listed, deadline_s=30)

    rejected = [s for s in body["sheets"] if s["title"] == "Spring stock"]
    assert [
        (s["channel"], s["backend"], s["state"], s["problem_code"], s["problem"], s["file_id"])
        for s in rejected
    ] == [
        (
            "amazon",
            "google",
            "failed",
            "listing_sheet_rejected",
            "row 1, sku: missing column",
            upload,
        )
    ]
