"""A tenant's Google folders when its config changes, on the real stack against the fake
Google: ``share_with`` changes reach the existing folders (added addresses granted, removed
ones revoked, someone the merchant shared with by hand left alone), and a channel added to
the config gets its folder and spreadsheet once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.config_store import TenantConfigStore
from relay_shared.storage import ObjectStore
from relay_sheets.devfake.model import FOLDER, SHEETS
from tests.sheets.google_stack import GoogleSheets, configured, google_config, google_sheets
from tests.support.channel_events import order_shipped

pytestmark = pytest.mark.stack

STREAM = f"GFOLDERS_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHIPPED = T0 + timedelta(hours=1)
MERGED_ROWS = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,"]
CHANNELS = ["amazon", "ebay"]


@pytest.fixture(scope="module")
async def sheets(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    object_store: ObjectStore,
) -> AsyncIterator[GoogleSheets]:
    state = tmp_path_factory.mktemp("gfolders-state")
    async with google_sheets(isolated_bus, STREAM, state, object_store) as running_sheets:
        yield running_sheets


async def reconfigure(
    sheets: GoogleSheets,
    tenant: str,
    name: str,
    version: int,
    share_with: list[str] | None = None,
    channels: list[str] = CHANNELS,
    replays: int = 1,
) -> None:
    config: dict[str, Any] = google_config(tenant, sheets.drive_id)
    if share_with is not None:
        config["sheets"]["google"]["share_with"] = share_with
    config["channels"]["woot"] = {"allocation": {"share_pct": 100, "buffer": 0}}
    await TenantConfigStore(sheets.store).save(tenant, version, config)
    for n in range(1, replays + 1):
        await sheets.send(configured(tenant, name, channels, version, n=n))


def shared(sheets: GoogleSheets, name: str) -> dict[str, list[str]]:
    """Folder → its permissions' addresses (root first, then channels)."""
    root = sheets.fake.files[sheets.root_folder(name)]
    folders = [root, *sorted(sheets.fake.children(root.id, FOLDER), key=lambda f: f.name)]
    return {
        "root" if f is root else f.name: [str(p["emailAddress"]) for p in f.permissions]
        for f in folders
    }


def permission_calls(sheets: GoogleSheets) -> int:
    return sum(1 for r in sheets.fake.requests("drive") if "/permissions" in r.path)


async def test_share_with_changes_reach_the_existing_folders(
    sheets: GoogleSheets, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    root = sheets.fake.files[sheets.root_folder(name)]
    root.permissions.append(  # the merchant shares the root with their accountant by hand
        {"kind": "drive#permission", "id": "perm-own", "type": "user", "role": "reader"}
        | {"emailAddress": "books@merchant.com"}
    )

    await reconfigure(sheets, tenant, name, 2, ["Boss@Merchant.com", "new@merchant.com"], replays=2)

    assert shared(sheets, name) == {
        "root": ["books@merchant.com", "Boss@Merchant.com", "new@merchant.com"],
        "amazon": ["Boss@Merchant.com", "new@merchant.com"],
        "ebay": ["Boss@Merchant.com", "new@merchant.com"],
    }
    calls = permission_calls(sheets)
    await sheets.send(configured(tenant, name, CHANNELS, 2, n=3))  # a replay: nothing to do
    assert permission_calls(sheets) == calls

    await reconfigure(sheets, tenant, name, 3, [])

    assert shared(sheets, name) == {"root": ["books@merchant.com"], "amazon": [], "ebay": []}
    granted = await sheets.fetch(
        "SELECT channel, shared_with FROM sheets.folders WHERE tenant_id = $1 ORDER BY channel",
        tenant,
    )
    assert [(r["channel"], list(r["shared_with"])) for r in granted] == [
        ("", []),
        ("amazon", []),
        ("ebay", []),
    ]


async def test_a_channel_added_to_the_config_gets_its_folder_and_spreadsheet_once(
    sheets: GoogleSheets, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)

    await reconfigure(sheets, tenant, name, 2, channels=[*CHANNELS, "woot"], replays=2)
    for n in (1, 2):
        order = order_shipped(tenant, f"w{n}-{unique_id}", f"O-{n}", "woot", [("A-1", n)], SHIPPED)
        await sheets.send(order)

    root = sheets.root_folder(name)
    folders = sorted(f.name for f in sheets.fake.children(root, FOLDER))
    assert folders == ["amazon", "ebay", "woot"]
    woot = sheets.fake.find("woot", root)
    assert woot is not None
    assert [p["emailAddress"] for p in woot.permissions] == ["ops@merchant.com"]
    assert [(f.name, f.mime_type) for f in sheets.fake.children(woot.id)] == [
        ("Inventory – woot", SHEETS)
    ]
    assert [row[:3] for row in sheets.google_cells(name, "woot", "Orders")] == [
        ["order_id", "sku", "quantity"],
        ["O-1", "A-1", 1],
        ["O-2", "A-1", 2],
    ]
    creates = [
        r.body["name"]
        for r in sheets.fake.requests("drive")
        if r.method == "POST" and r.path == "/drive/v3/files" and r.body["name"].endswith("woot")
    ]
    assert creates == ["woot", "Inventory – woot"]
