"""A merged feed too long for a spreadsheet is handled on purpose on both backends: the root's
Summary tab says so (rows, limit, run), the Merged feed tab keeps the last feed that fit, and
channel Listings update only the skus they list (none appended). Here the limit is 2 rows;
in production it is xlsx's 1,048,575 rows and 50,000 on Google (one request's body, and
10,000,000 cells a spreadsheet)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.storage import ObjectStore
from tests.sheets.google_stack import GoogleSheets, google_sheets
from tests.support.channel_events import offers_merged, put_merged

pytestmark = pytest.mark.stack

STREAM = f"GSHEETSLIMIT_{uuid.uuid4().hex[:8].upper()}"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0_TEXT = "2026-03-01T12:00:00Z"


@pytest.fixture(scope="module")
async def sheets(
    isolated_bus: StackEndpoints,
    tmp_path_factory: pytest.TempPathFactory,
    object_store: ObjectStore,
) -> AsyncIterator[GoogleSheets]:
    state = tmp_path_factory.mktemp("gsheets-limit")
    async with google_sheets(
        isolated_bus, STREAM, state, object_store, google_max_feed_rows=2, xlsx_max_feed_rows=2
    ) as running_sheets:
        yield running_sheets


async def test_a_feed_longer_than_the_limit_is_summarised_not_written_on_both_backends(
    sheets: GoogleSheets, object_store: ObjectStore, unique_id: str
) -> None:
    google, xlsx = f"g-{unique_id}", f"x-{unique_id}"
    name = f"Acme {unique_id}"
    first = ["A-1,10,12.00,Widget,v1,", "B-2,2,5.50,,v1,"]
    await sheets.start_tenant(google, name, "google", first, T0)
    await sheets.start_tenant(xlsx, name, "xlsx", first, T0)
    longer = ["A-1,20,12.00,Widget,v1,", "B-2,6,5.50,,v1,", "D-4,4,1.00,New,v1,"]

    for tenant in (google, xlsx):
        key = await put_merged(object_store, tenant, "run-2", longer)
        await sheets.send(offers_merged(tenant, "run-2", key, T0 + timedelta(days=1)))

    merged = [
        ["sku", "quantity_available", "price", "title", "vendor_id", "updated_at"],
        ["A-1", 10, 12, "Widget", "v1"],
        ["B-2", 2, 5.5, None, "v1"],
    ]
    assert sheets.google_root_cells(name, "Merged feed") == merged
    assert sheets.xlsx_root_cells(xlsx, "Merged feed") == merged
    status = (
        "the merged feed of run run-2 has 3 rows, above the 2 this spreadsheet takes: the Merged"
        " feed tab shows the last feed that fit, channel Listings updated the skus they list;"
        " download the full feed from GET /v1/runs/run-2/artifacts"
    )
    summary = [
        ["field", "value"],
        ["status", status],
        ["run_id", "run-2"],
        ["rows", 3],
        ["limit", 2],
        ["as_of", "2026-03-02T12:00:00Z"],
    ]
    book = sheets.fake.find("Merged feed", sheets.root_folder(name))
    assert book is not None
    assert sheets.fake.values(book.id, "Summary") == summary
    assert sheets.xlsx_root_cells(xlsx, "Merged feed", "Summary") == summary
    listings = [
        ["sku", "title", "quantity", "price", "status", "listed_date", "last_sold_at"],
        ["A-1", "Widget", 18, 12, "active", T0_TEXT],
        ["B-2", None, 4, 5.5, "active", T0_TEXT],
    ]
    assert sheets.google_cells(name, "amazon", "Listings") == listings
    assert sheets.xlsx_cells(xlsx, "amazon", "Listings") == listings
