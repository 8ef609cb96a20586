"""Uploaded listing sheets across scans, on the real stack against the fake Google: a file
Google cannot serve for now is read again at the next scan (never rejected, never passed),
and a scan reads only the files that changed since the last one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.storage import ObjectStore
from tests.sheets.google_stack import GoogleSheets, google_sheets
from tests.support.jetstream import next_event
from tests.support.polling import eventually_async

pytestmark = pytest.mark.stack

STREAM = f"GUPLOADS_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MERGED_ROWS = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,"]


@pytest.fixture(scope="module")
async def sheets(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    object_store: ObjectStore,
) -> AsyncIterator[GoogleSheets]:
    state = tmp_path_factory.mktemp("guploads-state")
    # Two attempts per call (one back-off of 1-2 s): a file failing twice is "Google
    # unavailable after retries" for that scan.
    async with google_sheets(
        isolated_bus, STREAM, state, object_store, google_max_attempts=2
    ) as running_sheets:
        yield running_sheets


async def ebay_folder(sheets: GoogleSheets, tenant: str, name: str) -> str:
    await sheets.start_tenant(tenant, name, "google", MERGED_ROWS, T0)
    folder = sheets.fake.find("ebay", sheets.root_folder(name))
    assert folder is not None
    return folder.id


async def uploads(sheets: GoogleSheets, tenant: str, count: int) -> list[tuple[str, str]] | None:
    rows = await sheets.fetch(
        "SELECT name, status FROM sheets.uploads WHERE tenant_id = $1 ORDER BY name", tenant
    )
    return [(r["name"], r["status"]) for r in rows] if len(rows) == count else None


def statuses(sheets: GoogleSheets, file_id: str) -> list[int]:
    return [r.status for r in sheets.fake.log if f"/{file_id}" in r.path]


def scans_of(sheets: GoogleSheets, folder: str) -> int:
    """Drive listings of ``folder`` for uploads (one per scan)."""
    return sum(
        1
        for r in sheets.fake.requests("drive")
        if r.path == "/drive/v3/files"
        and folder in r.query.get("q", [""])[0]
        and "modifiedTime" in r.query.get("q", [""])[0]
        and r.status == 200
    )


async def wait_scans(sheets: GoogleSheets, folder: str, more: int) -> None:
    target = scans_of(sheets, folder) + more

    async def scanned() -> bool | None:
        return True if scans_of(sheets, folder) >= target else None

    await eventually_async(scanned, timeout=30, what=f"{more} more scans of {folder}")


async def test_a_file_google_cannot_serve_for_now_is_read_again_not_rejected(
    sheets: GoogleSheets, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    folder = await ebay_folder(sheets, tenant, name)
    flaky = sheets.fake.upload_sheet("Flaky", folder, [["sku", "quantity"], ["A-1", 4]])
    sheets.fake.fail_file(flaky, 503, 2)  # both attempts of the first scan, then it recovers
    steady = sheets.fake.upload_sheet("Steady", folder, [["sku", "quantity"], ["B-2", 1]])

    read = await eventually_async(lambda: uploads(sheets, tenant, 2), timeout=60)

    assert read == [("Flaky", "imported"), ("Steady", "imported")]
    assert statuses(sheets, flaky) == [503, 503, 200, 200]  # metadata x2 failed; read again
    # The first scan read Steady (after Flaky) and kept its cursor before Flaky: the next
    # scan listed Steady again and skipped it (unchanged), reading only Flaky.
    assert statuses(sheets, steady) == [200, 200]
    state = {
        r["title"]: (r["state"], r["problem_code"])
        for r in await sheets.fetch(
            "SELECT title, state, problem_code FROM sheets.spreadsheets"
            " WHERE tenant_id = $1 AND channel = 'ebay' AND title NOT LIKE 'Inventory%'",
            tenant,
        )
    }
    assert state == {"Flaky": ("ok", None), "Steady": ("ok", None)}


async def test_a_second_scan_skips_unchanged_files_and_reads_a_changed_one_again(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, name = f"t-{unique_id}", f"Acme {unique_id}"
    folder = await ebay_folder(sheets, tenant, name)
    book = sheets.fake.upload_sheet("Spring", folder, [["sku", "quantity"], ["A-1", 4]])

    first = await next_imported(sheets, tenant, rows=1)
    await wait_scans(sheets, folder, 3)

    assert sheets.fake.reads_of(book) == 2  # metadata + values, once
    sheets.fake.type_cells(book, "Sheet1", "A3", [["C-3", 9]])  # the merchant edits it
    second = await next_imported(sheets, tenant, rows=2)
    await wait_scans(sheets, folder, 3)

    assert sheets.fake.reads_of(book) == 4  # read once more, for the edit only
    assert first["sha256"] != second["sha256"]
    assert await object_store.get_bytes(second["listings_key"]) == (
        b"sku,title,quantity,status,listed_date\nA-1,,4,active,\nC-3,,9,active,\n"
    )


async def next_imported(sheets: GoogleSheets, tenant: str, rows: int) -> dict[str, Any]:
    return await next_event(
        sheets.client,
        sheets.stream,
        subjects.LISTINGS_IMPORTED,
        where=lambda e: e["tenant_id"] == tenant and e["rows"] == rows,
        timeout=60,
    )
