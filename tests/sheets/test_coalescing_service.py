"""Coalesced writes on the real stack: a backlog of orders published before sheets starts
ends in exactly the right cells with a few saves, and a save that fails naks its whole batch,
which then succeeds on redelivery."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from openpyxl import load_workbook

from relay_cli.stack import StackEndpoints
from relay_shared.bus.streams import ensure_streams
from relay_shared.runtime import stream_settings
from relay_sheets.adapters.coalescing_writer import WriterStats
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.app import SheetsApp
from relay_sheets.domain.grid import RowChange, WorksheetUpsert
from relay_sheets.domain.layout import CHANNEL_WORKSHEETS, LISTINGS, channel_spreadsheet
from relay_sheets.settings import SheetsSettings
from tests.support.channel_events import order_shipped
from tests.support.jetstream import delete_streams, nats_client, publish, wait_consumed
from tests.support.running import running

pytestmark = pytest.mark.stack

STREAM = f"COALESCE_{uuid.uuid4().hex[:8].upper()}"
DURABLE = "sheets-order-shipped"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Bus:
    client: Client
    endpoints: StackEndpoints


@pytest.fixture(scope="module")
async def bus(isolated_bus: StackEndpoints) -> AsyncIterator[Bus]:
    """The stream, declared up front so orders can wait in it before sheets starts."""
    async with nats_client(isolated_bus.nats_url) as client:
        settings = SheetsSettings.from_env(isolated_bus.as_env(), nats_stream=STREAM)
        await ensure_streams(client.jetstream(), stream_settings(settings))
        try:
            yield Bus(client, isolated_bus)
        finally:
            await delete_streams(client, STREAM)


def sheets_app(bus: Bus, state: Path) -> SheetsApp:
    settings = SheetsSettings.from_env(
        bus.endpoints.as_env(),
        nats_stream=STREAM,
        state_dir=str(state),
        consumer_workers=64,
        write_linger_s=0.3,
        write_min_interval_s=0.0,
        retry_base_delay_s=0.2,
    )
    return SheetsApp(settings)


async def seed_listings(root: Path, tenant: str, quantities: dict[str, int]) -> Path:
    backend = XlsxBackend(root)
    ref = channel_spreadsheet(tenant, "amazon")
    await backend.ensure_spreadsheet(ref, CHANNEL_WORKSHEETS)
    changes = [RowChange((sku,), {"quantity": qty}) for sku, qty in quantities.items()]
    await backend.upsert_rows(ref, [WorksheetUpsert(LISTINGS, changes)])
    return backend.path_for(ref)


def worksheet(path: Path, title: str) -> list[list[Any]]:
    return [list(r) for r in load_workbook(path)[title].iter_rows(min_row=2, values_only=True)]


async def deliveries_so_far(bus: Bus) -> int:
    """How many deliveries (first ones and redeliveries) sheets' consumer has made."""
    try:
        info = await bus.client.jetstream().consumer_info(STREAM, DURABLE)
    except NotFoundError:  # sheets has not started on this stream yet
        return 0
    return int(info.delivered.consumer_seq or 0)


async def consume_backlog(bus: Bus, app: SheetsApp, last_seq: int) -> WriterStats:
    """Run sheets until it has acked everything up to ``last_seq``; its writer's counters."""
    async with running([app]):
        await wait_consumed(bus.client, STREAM, DURABLE, last_seq, wait_s=60.0)
        return app.handlers[0].writers.xlsx.stats


async def test_a_backlog_of_orders_lands_exactly_with_few_saves(
    bus: Bus, tmp_path: Path, unique_id: str
) -> None:
    tenant = f"t-{unique_id}"
    path = await seed_listings(tmp_path / "sheets", tenant, {"A-1": 100, "B-2": 3})
    at = [T0 + timedelta(minutes=i) for i in range(50)]
    text = [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in at]
    for i in range(50):
        items = [("A-1", 1), ("B-2", 1)] if i % 10 == 0 else [("A-1", 1)]
        event = order_shipped(tenant, f"e{i}-{unique_id}", f"O-{i}", "amazon", items, at[i])
        seq = await publish(bus.client, STREAM, event)
    for i in range(5):  # ShipStation re-sends five orders with new event ids
        event = order_shipped(tenant, f"r{i}-{unique_id}", f"O-{i}", "amazon", [("A-1", 1)], at[i])
        seq = await publish(bus.client, STREAM, event)

    stats = await consume_backlog(bus, sheets_app(bus, tmp_path), seq)

    expected_orders = [[f"O-{i}", "A-1", 1, text[i]] for i in range(50)]
    expected_orders += [[f"O-{i}", "B-2", 1, text[i]] for i in range(0, 50, 10)]
    assert sorted(worksheet(path, "Orders")) == sorted(expected_orders)
    assert worksheet(path, "Listings") == [
        ["A-1", None, 50, None, None, None, "2026-03-01T12:49:00Z"],
        ["B-2", None, 0, None, None, None, "2026-03-01T12:40:00Z"],
    ]
    assert stats.edits_applied == 55
    assert stats.edits_failed == 0
    assert 1 <= stats.saves <= 4, stats


async def test_a_failed_save_naks_its_whole_batch_and_redelivery_completes_it(
    bus: Bus, tmp_path: Path, unique_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"t-{unique_id}"
    root = tmp_path / "sheets"
    path = await seed_listings(root, tenant, {"A-1": 100})
    before = await deliveries_so_far(bus)
    for i in range(20):
        seq = await publish(
            bus.client,
            STREAM,
            order_shipped(tenant, f"e{i}-{unique_id}", f"O-{i}", "amazon", [("A-1", 2)], T0),
        )
    real_replace = os.replace
    failed: list[str] = []

    def replace_failing_once(src: Any, dst: Any) -> None:
        if not failed and str(dst) == str(path):
            failed.append(str(dst))
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_failing_once)

    stats = await consume_backlog(bus, sheets_app(bus, tmp_path), seq)

    assert failed == [str(path)]
    assert len(worksheet(path, "Orders")) == 20
    assert worksheet(path, "Listings")[0][:3] == ["A-1", None, 60]
    deliveries = await deliveries_so_far(bus) - before
    # every message of the failed batch was nak'ed and delivered once more; none other was
    assert stats.failed_flushes == 1
    assert stats.edits_failed >= 1
    assert deliveries == 20 + stats.edits_failed
    assert stats.edits_applied == 20
