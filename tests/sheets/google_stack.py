"""The sheets service on the real stack with its Google backend pointed at the local fake
(``relay_sheets.devfake.google``), and what its tests send and read."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from nats.aio.client import Client
from openpyxl import load_workbook

from relay_cli.stack import StackEndpoints
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import (
    ChannelActed,
    Event,
    InsightGenerated,
    ReallocationChanged,
    TenantConfigured,
)
from relay_shared.storage import ObjectStore
from relay_sheets.app import SheetsApp
from relay_sheets.devfake.google import FakeGoogle, Quotas, fake_google
from relay_sheets.devfake.model import FOLDER, SHEETS
from relay_sheets.settings import SheetsSettings
from tests.support.channel_events import offers_merged, put_merged, tenant_config
from tests.support.jetstream import delete_streams, nats_client, publish, wait_consumed
from tests.support.jetstream import wait_for_stream as wait_stream
from tests.support.running import running

DURABLES = {
    "offers.merged": "sheets-offers-merged",
    "order.shipped": "sheets-order-shipped",
    "insight.generated": "sheets-insight-generated",
    "tenant.configured": "sheets-tenant-configured",
    "channel.acted": "sheets-channel-acted",
    "reallocation.changed": "sheets-reallocation-changed",
}
SHARE_WITH = ["ops@merchant.com"]


def google_config(tenant: str, drive_id: str) -> dict[str, Any]:
    config = tenant_config(tenant)
    config["sheets"] = {
        "backend": "google",
        "google": {"shared_drive_id": drive_id, "share_with": SHARE_WITH},
    }
    return config


def configured(
    tenant: str, name: str, channels: list[str], version: int | None, n: int = 1
) -> TenantConfigured:
    return TenantConfigured(
        event_id=f"tenant.configured:{tenant}:{version}:{n}",
        occurred_at=datetime(2026, 3, 1, 11, 0).astimezone(),
        tenant_id=tenant,
        correlation_id=f"corr-{tenant}",
        name=name,
        channels=channels,
        config_version=version,
    )


def channel_acted(tenant: str, channel: str, artifact_key: str, n: int) -> ChannelActed:
    return ChannelActed(
        event_id=f"channel.acted:{tenant}:{channel}:{n}",
        occurred_at=datetime(2026, 3, 1, 14, 0).astimezone(),
        tenant_id=tenant,
        correlation_id=f"corr-{tenant}",
        action_id=f"act-{n}",
        insight_id=f"ins-{n}",
        channel=channel,
        sku="A-1",
        action="delist",
        outcome="succeeded",
        dry_run=False,
        duration_ms=5,
        artifact_key=artifact_key,
    )


def insight(tenant: str, status: str, since: datetime, n: int) -> InsightGenerated:
    return InsightGenerated(
        event_id=f"insight.generated:{tenant}:B-2:{n}",
        occurred_at=since,
        tenant_id=tenant,
        correlation_id="corr",
        insight_id=f"{tenant}-B-2",
        channel="amazon",
        sku="B-2",
        kind="out_of_stock",
        status="open" if status == "open" else "resolved",
        since=since,
        detail={"quantity": 0},
    )


def reallocation(
    tenant: str, state: str, at: datetime, claimed_by: str | None
) -> ReallocationChanged:
    return ReallocationChanged(
        event_id=f"reallocation.changed:{tenant}:e-1:{state}",
        occurred_at=at,
        tenant_id=tenant,
        correlation_id="corr",
        entry_id="e-1",
        origin="amazon",
        target="ebay",
        sku="C-3",
        quantity=4,
        reason="slow_mover",
        state="open" if state == "open" else "claimed",
        claimed_by=claimed_by,
    )


def trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows as a merchant reads them: blanks as None, trailing blanks and empty rows cut."""
    out = []
    for row in rows:
        cells = [None if v == "" else v for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


@dataclass
class GoogleSheets:
    client: Client
    stream: str
    fake: FakeGoogle
    drive_id: str
    root: Path
    settings: SheetsSettings
    store: ObjectStore

    async def send(self, event: Event, wait_s: float = 60.0) -> None:
        seq = await publish(self.client, self.stream, event)
        await wait_consumed(self.client, self.stream, DURABLES[event.subject], seq, wait_s=wait_s)

    async def start_tenant(
        self, tenant: str, name: str, backend: str, rows: list[str], at: datetime
    ) -> None:
        config = (
            google_config(tenant, self.drive_id) if backend == "google" else tenant_config(tenant)
        )
        await TenantConfigStore(self.store).save(tenant, 1, config)
        await self.send(configured(tenant, name, ["amazon", "ebay"], 1))
        key = await put_merged(self.store, tenant, "run-1", rows)
        await self.send(offers_merged(tenant, "run-1", key, at))

    def root_folder(self, name: str) -> str:
        found = self.fake.find(f"Relay – {name}", self.drive_id)
        assert found is not None
        assert found.mime_type == FOLDER
        return found.id

    def book(self, name: str, channel: str) -> str:
        folder = self.fake.find(channel, self.root_folder(name))
        assert folder is not None
        book = self.fake.find(f"Inventory – {channel}", folder.id)
        assert book is not None
        assert book.mime_type == SHEETS
        return book.id

    def google_cells(self, name: str, channel: str, worksheet: str) -> list[list[Any]]:
        return trimmed(self.fake.values(self.book(name, channel), worksheet))

    def google_root_cells(self, name: str, title: str) -> list[list[Any]]:
        book = self.fake.find(title, self.root_folder(name))
        assert book is not None
        return trimmed(self.fake.values(book.id, title))

    def xlsx_root_cells(self, tenant: str, title: str, tab: str | None = None) -> list[list[Any]]:
        sheet = load_workbook(self.root / tenant / f"{title}.xlsx")[tab or title]
        return trimmed([list(row) for row in sheet.iter_rows(values_only=True)])

    def xlsx_cells(self, tenant: str, channel: str, worksheet: str) -> list[list[Any]]:
        path = self.root / tenant / channel / f"Inventory – {channel}.xlsx"
        sheet = load_workbook(path)[worksheet]
        return trimmed([list(row) for row in sheet.iter_rows(values_only=True)])

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.settings.database_url)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def spreadsheet_state(self, tenant: str, channel: str) -> asyncpg.Record | None:
        connection = await asyncpg.connect(self.settings.database_url)
        try:
            return await connection.fetchrow(
                "SELECT state, problem_code, problem, file_id FROM sheets.spreadsheets"
                " WHERE tenant_id = $1 AND channel = $2",
                tenant,
                channel,
            )
        finally:
            await connection.close()


def sheets_settings(
    endpoints: StackEndpoints, stream: str, state: Path, fake: FakeGoogle, **extra: Any
) -> SheetsSettings:
    account = fake.write_service_account(state / "service-account.json")
    values: dict[str, Any] = {
        "nats_stream": stream,
        "state_dir": str(state),
        "max_deliver": 3,
        "retry_base_delay_s": 0.3,
        "retry_max_delay_s": 1.0,
        "service_account_file": str(account),
        "google_api_url": fake.url,
        "google_write_linger_s": 0.1,
        "google_write_min_interval_s": 0.2,
        "google_max_attempts": 4,
        "google_requests_per_minute_per_user": 6000,
        "google_requests_per_minute_per_project": 6000,
        "google_scan_interval_s": 0.3,
    }
    return SheetsSettings.from_env(endpoints.as_env(), **{**values, **extra})


@contextlib.asynccontextmanager
async def google_sheets(
    endpoints: StackEndpoints,
    stream: str,
    state: Path,
    store: ObjectStore,
    quotas: Quotas | None = None,
    **extra: Any,
) -> AsyncIterator[GoogleSheets]:
    quotas = quotas or Quotas(per_user=6000, per_project=6000)
    async with fake_google(quotas) as fake, nats_client(endpoints.nats_url) as client:
        drive_id = fake.add_shared_drive()
        settings = sheets_settings(endpoints, stream, state, fake, **extra)
        try:
            async with running([SheetsApp(settings)]):
                await wait_stream(client, stream)
                yield GoogleSheets(
                    client, stream, fake, drive_id, state / "sheets", settings, store
                )
        finally:
            await delete_streams(client, stream)
