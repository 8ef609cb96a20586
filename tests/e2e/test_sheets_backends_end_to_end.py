"""The order flow end to end on both sheet backends, every service a real process: the
example tenant runs its feed, the merchant adds a column and a row of their own to the
amazon spreadsheet, a signed ShipStation order ships 4 × BAT-5001, and the channel sheet
shows the same cells on xlsx (a workbook on disk) and on Google (the local fake Google,
``relay_sheets.devfake``, reached by the sheets process through ``APP_GOOGLE_API_URL``
with a generated service account), the merchant's column and row kept."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
import yaml
from openpyxl import load_workbook

from relay_cli.bus_watch import collect, nats_client
from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.devfake.running import FakeGoogleThread
from relay_sheets.domain.grid import iso
from relay_sheets.domain.layout import channel_spreadsheet
from tests.e2e.test_end_to_end import EXAMPLES, EXPECTED_ROWS, FEEDS, example_config, signed_order
from tests.sheets.google_stack import trimmed
from tests.support.live_system import LiveSystem, live_system_on
from tests.support.polling import eventually

pytestmark = pytest.mark.stack

LISTINGS_HEADER = ["sku", "title", "quantity", "price", "status", "listed_date", "last_sold_at"]
SHIPPED_TEXT = "2026-11-22T09:55:00Z"
MERCHANT_ROW = ["MY-1", "merchant's own", 3, None, "paused", None, None, "keep me"]
AMAZON_BUFFER = 2  # examples/acme_parts/tenant.yaml: share 100 %, buffer 2


@pytest.fixture(scope="module")
def google(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGoogleThread]:
    with FakeGoogleThread(tmp_path_factory.mktemp("google-fake")) as running_google:
        yield running_google


@pytest.fixture(scope="module")
def live_system(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    google: FakeGoogleThread,
) -> Iterator[LiveSystem]:
    """Every service, the sheets service's Google being the fake (writes flushed fast)."""
    env = {
        **google.env(),
        "APP_GOOGLE_WRITE_LINGER_S": "0.2",
        "APP_GOOGLE_WRITE_MIN_INTERVAL_S": "0.5",
    }
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("live-sheets"), env) as system:
        yield system


class Sheet:
    """The amazon spreadsheet of one tenant on one backend, as a merchant reads and edits it."""

    def __init__(
        self, backend: str, tenant: str, name: str, system: LiveSystem, google: FakeGoogleThread
    ) -> None:
        self.backend, self.tenant, self.name = backend, tenant, name
        self.google = google
        self.path = XlsxBackend(system.sheets_dir).path_for(channel_spreadsheet(tenant, "amazon"))

    def config(self) -> str:
        config = yaml.safe_load(example_config(self.tenant))
        if self.backend == "google":
            config["sheets"] = {
                "backend": "google",
                "google": {"shared_drive_id": self.google.drive_id, "share_with": []},
            }
        return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)

    def tabs(self) -> dict[str, list[list[Any]]]:
        if self.backend == "google":
            return self.google.call(self._google_tabs)
        if not self.path.exists():
            return {}
        workbook = load_workbook(self.path, read_only=True)
        try:
            return {
                name: trimmed([list(r) for r in workbook[name].iter_rows(values_only=True)])
                for name in ("Listings", "Orders", "Insights")
                if name in workbook.sheetnames
            }
        finally:
            workbook.close()

    def _google_tabs(self) -> dict[str, list[list[Any]]]:
        book = self._google_book()
        if book is None:
            return {}
        titles = {s.title for s in self.google.fake.books[book].sheets}
        return {
            name: trimmed(self.google.fake.values(book, name))
            for name in ("Listings", "Orders", "Insights")
            if name in titles
        }

    def _google_book(self) -> str | None:
        fake = self.google.fake
        root = fake.find(f"Relay – {self.name}", self.google.drive_id)
        folder = None if root is None else fake.find("amazon", root.id)
        book = None if folder is None else fake.find("Inventory – amazon", folder.id)
        return None if book is None or book.id not in fake.books else book.id

    def merchant_edits(self) -> None:
        """A "notes" column (H) with a note on BAT-5001's row (3), and a row of their own."""
        if self.backend == "google":
            self.google.call(self._google_edits)
            return
        # The merchant's save and the service's are serialized by the service's file lock.
        with open(self.path.with_name(f".{self.path.name}.lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            workbook = load_workbook(self.path)
            sheet = workbook["Listings"]
            sheet["H1"], sheet["H3"] = "notes", "hero product"
            for column, value in enumerate(MERCHANT_ROW, start=1):
                sheet.cell(row=13, column=column, value=value)
            workbook.save(self.path)

    def _google_edits(self) -> None:
        book = self._google_book()
        assert book is not None
        fake = self.google.fake
        fake.type_cells(book, "Listings", "H1", [["notes"], [""], ["hero product"]])
        fake.type_cells(book, "Listings", "A13", [["" if v is None else v for v in MERCHANT_ROW]])


def expected_listings(listed_date: str) -> list[list[Any]]:
    rows: list[list[Any]] = [[*LISTINGS_HEADER, "notes"]]
    for sku, quantity, price, _vendor in EXPECTED_ROWS:
        row = [sku, None, max(0, int(quantity) - AMAZON_BUFFER), float(price), "active"]
        row.append(listed_date)
        if sku == "BAT-5001":  # 4 allocated, 4 shipped
            row[2] = 0
            row.extend([SHIPPED_TEXT, "hero product"])
        rows.append(row)
    return [*rows, MERCHANT_ROW]


async def onboard_and_run(admin: GatewayClient, sheet: Sheet, names: list[str]) -> None:
    owner = admin.as_key(await admin.create_tenant(sheet.tenant, sheet.name, names))
    assert await owner.put_config(sheet.tenant, sheet.config()) == 1
    await owner.put_sku_map(
        sheet.tenant, "vendor_1", (EXAMPLES / "sku_map_vendor_1.csv").read_bytes()
    )
    for vendor_id, (file_name, content_type) in FEEDS.items():
        body = (EXAMPLES / "feeds" / file_name).read_bytes()
        await owner.upload_feed(sheet.tenant, vendor_id, body, content_type)
    queued = await owner.start_run(sheet.tenant)
    async with asyncio.timeout(120):
        run = await owner.wait_for_run(queued["run_id"])
    assert run["status"] == "SUCCEEDED"


async def order_flow(
    live_system: LiveSystem, admin: GatewayClient, sheet: Sheet
) -> dict[str, list[list[Any]]]:
    """Run, merchant edits once Listings are there, ship the order; the tabs once the order
    and its insight are in the sheet."""
    await onboard_and_run(admin, sheet, ["amazon", "ebay", "woot"])

    def listed() -> bool | None:
        return True if len(sheet.tabs().get("Listings", [])) == 12 else None

    await eventually(listed, timeout=60, what=f"{sheet.backend} Listings of 11 skus")
    sheet.merchant_edits()
    body = signed_order(sheet.tenant, f"evt_{sheet.tenant}")
    await admin.post_shipstation(body, live_system.webhook_secret, expect=(202,))

    def shipped() -> dict[str, list[list[Any]]] | None:
        tabs = sheet.tabs()
        orders = tabs.get("Orders", [])
        insights = [r for r in tabs.get("Insights", [])[1:] if r[1] == "BAT-5001"]
        return tabs if len(orders) > 1 and insights else None

    return await eventually(shipped, timeout=60, what=f"{sheet.backend} order and insight")


async def listed_date_of(live_system: LiveSystem, tenant: str) -> str:
    """Listings' listed_date: the time of the tenant's offers.merged."""
    async with nats_client(live_system.endpoints.nats_url) as client:
        merged = await collect(
            client, "RELAY", "offers.merged", until=lambda e: e["tenant_id"] == tenant
        )
    text = iso(datetime.fromisoformat(merged[-1]["occurred_at"]))
    assert text is not None
    return text


async def test_the_order_flow_writes_the_same_cells_on_xlsx_and_google(
    live_system: LiveSystem, google: FakeGoogleThread, unique_id: str
) -> None:
    sheets = [
        Sheet(b, f"acme_{b}_{unique_id}", f"Acme {b} {unique_id}", live_system, google)
        for b in ("xlsx", "google")
    ]
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, live_system.gateway_url, live_system.admin_key)
        xlsx_tabs, google_tabs = await asyncio.gather(
            *(order_flow(live_system, admin, sheet) for sheet in sheets)
        )

    for sheet, tabs in zip(sheets, (xlsx_tabs, google_tabs), strict=True):
        listed_date = await listed_date_of(live_system, sheet.tenant)
        assert tabs["Listings"] == expected_listings(listed_date), sheet.backend
        assert tabs["Orders"] == [
            ["order_id", "sku", "quantity", "shipped_at"],
            ["A-1001", "BAT-5001", 4, SHIPPED_TEXT],
        ]
        insight = [r[:3] for r in tabs["Insights"][1:] if r[1] == "BAT-5001"]
        assert insight == [["out_of_stock", "BAT-5001", "open"]]
    # the same cells on both backends, but for listed_date (each tenant's own feed time)
    assert [r[:5] + r[6:] for r in xlsx_tabs["Listings"]] == [
        r[:5] + r[6:] for r in google_tabs["Listings"]
    ]
    # the Google tenant's spreadsheet is on the fake only, not a workbook on disk
    assert not await asyncio.to_thread(sheets[1].path.exists)
