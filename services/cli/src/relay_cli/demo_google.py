"""What ``relay demo --google-fake`` shows: the channel spreadsheet's rows, read back from
the local fake Google (its Drive folders and Sheets cells, not a file on disk)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from relay_cli.demo_output import say

if TYPE_CHECKING:
    from relay_sheets.devfake.google import FakeGoogle
    from relay_sheets.devfake.running import FakeGoogleThread

TABS = ("Listings", "Orders", "Insights")
WAIT_S = 60.0

Tabs = dict[str, list[list[Any]]]


def google_env(google: FakeGoogleThread | None) -> dict[str, str]:
    """The services' variables for the fake (none without it)."""
    return {} if google is None else google.env()


async def print_google_sheet(
    google: FakeGoogleThread, tenant_name: str, channel: str, sku: str
) -> None:
    """Wait (with a deadline) until "Inventory – <channel>" on the fake shows the order and
    the insight of ``sku`` (sheets coalesces Google writes every few seconds), then print
    every row of its Listings, Orders and Insights tabs."""
    deadline = time.monotonic() + WAIT_S
    while True:
        tabs = google.call(lambda: channel_tabs(google.fake, tenant_name, channel))
        if _shows(tabs, "Orders", sku) and _shows(tabs, "Insights", sku):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the fake Google shows no order and insight for {sku} in {WAIT_S}s")
        await asyncio.sleep(0.5)
    say(
        f"Google spreadsheet Relay – {tenant_name} / {channel} / Inventory – {channel}"
        f" (fake Google {google.url}):"
    )
    for tab, rows in tabs.items():
        say(f"  {tab}:")
        for row in rows:
            say("    " + " | ".join("" if value in (None, "") else str(value) for value in row))


def channel_tabs(fake: FakeGoogle, tenant_name: str, channel: str) -> Tabs:
    """The channel spreadsheet's tabs as a merchant reads them (none yet: empty)."""
    root = next((f for f in fake.files.values() if f.name == f"Relay – {tenant_name}"), None)
    folder = None if root is None else fake.find(channel, root.id)
    book = None if folder is None else fake.find(f"Inventory – {channel}", folder.id)
    if book is None or book.id not in fake.books:
        return {}
    titles = {sheet.title for sheet in fake.books[book.id].sheets}
    return {tab: fake.values(book.id, tab) for tab in TABS if tab in titles}


def _shows(tabs: Tabs, tab: str, sku: str) -> bool:
    rows = tabs.get(tab, [])
    return any(len(row) > 1 and row[1] == sku for row in rows[1:])
