"""The order flow across both services: offers.merged and order.shipped into insights, its
insight.generated (from the outbox) into the channel workbook's Insights tab."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from openpyxl import load_workbook

from relay_cli.stack import StackEndpoints
from relay_insights.app import InsightsApp
from relay_insights.settings import InsightsSettings
from relay_shared.config_store import TenantConfigStore
from relay_shared.storage import ObjectStore
from relay_sheets.app import SheetsApp
from relay_sheets.settings import SheetsSettings
from tests.support.channel_events import offers_merged, order_shipped, put_merged, tenant_config
from tests.support.jetstream import (
    delete_streams,
    nats_client,
    publish,
    wait_consumed,
    wait_for_stream,
)
from tests.support.polling import eventually
from tests.support.running import running

pytestmark = pytest.mark.stack

STREAM = f"FLOW_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def flow(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Client, Path]]:
    state = tmp_path_factory.mktemp("flow-state")
    env = isolated_bus.as_env()
    apps: list[Any] = [
        InsightsApp(InsightsSettings.from_env(env, nats_stream=STREAM, outbox_interval_s=0.2)),
        SheetsApp(SheetsSettings.from_env(env, nats_stream=STREAM, state_dir=str(state))),
    ]
    async with nats_client(isolated_bus.nats_url) as client:
        try:
            async with running(apps):
                await wait_for_stream(client, STREAM)
                yield client, state / "sheets"
        finally:
            await delete_streams(client, STREAM)


def insights_tab(path: Path) -> list[list[Any]] | None:
    try:
        sheet = load_workbook(path)["Insights"]
    except (FileNotFoundError, KeyError):
        return None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def wait_for_tab(path: Path, expected: list[list[Any]], wait_s: float = 30.0) -> None:
    def shows_expected() -> bool | None:
        return True if insights_tab(path) == expected else None

    try:
        await eventually(shows_expected, timeout=wait_s)
    except TimeoutError as exc:
        raise AssertionError(f"Insights tab is {insights_tab(path)}, expected {expected}") from exc


async def test_out_of_stock_reaches_the_channel_sheet_and_resolves(
    flow: tuple[Client, Path], object_store: ObjectStore, unique_id: str
) -> None:
    client, root = flow
    tenant = f"t-{unique_id}"
    await TenantConfigStore(object_store).save(tenant, 1, tenant_config(tenant))
    key = await put_merged(object_store, tenant, "run-1", ["A-1,3,12.00,Widget,v1,"])
    workbook = root / tenant / "ebay" / "Inventory – ebay.xlsx"
    header = ["kind", "sku", "status", "since", "detail"]

    seq = await publish(client, STREAM, offers_merged(tenant, "run-1", key, T0))
    for durable in ("insights-offers-merged", "sheets-offers-merged"):
        await wait_consumed(client, STREAM, durable, seq)
    shipped = T0 + timedelta(hours=1)
    await publish(
        client,
        STREAM,
        order_shipped(tenant, f"o-{unique_id}", "O-1", "ebay", [("A-1", 1)], shipped),
    )

    # ebay gets floor(3 × 50 %) = 1; the order sells it: out of stock, in ebay's sheet.
    opened = ["out_of_stock", "A-1", "open", "2026-03-01T13:00:00Z", '{"quantity": 0}']
    await wait_for_tab(workbook, [header, opened])

    key = await put_merged(object_store, tenant, "run-2", ["A-1,8,12.00,Widget,v1,"])
    await publish(client, STREAM, offers_merged(tenant, "run-2", key, T0 + timedelta(days=1)))

    # the resolution says what ended it: restocked to 3 (ebay's max_qty), still active
    detail = '{"quantity": 0, "quantity_now": 3, "status_now": "active"}'
    resolved = ["out_of_stock", "A-1", "resolved", "2026-03-02T12:00:00Z", detail]
    await wait_for_tab(workbook, [header, resolved])
    # Listings come from sheets' own offers.merged consumer, which may trail the insight.
    restocked = ["A-1", "Widget", 3, 12.0, "active", "2026-03-01T12:00:00Z", "2026-03-01T13:00:00Z"]

    def listings_restocked() -> list[list[Any]] | None:
        rows = listing_rows(workbook)
        return rows if rows == [restocked] else None

    assert await eventually(listings_restocked, timeout=30) == [restocked]


def listing_rows(path: Path) -> list[list[Any]]:
    sheet = load_workbook(path)["Listings"]
    return [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
