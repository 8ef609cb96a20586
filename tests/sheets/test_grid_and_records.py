"""Row upserts (pure) and the rows each event produces."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import pytest

from relay_shared.channel_config import AllocationConfig
from relay_shared.events import InsightGenerated, OrderItem, OrderShipped
from relay_shared.merged_feed import MergedFeed, MergedFeedError, read_merged_feed
from relay_sheets.domain.grid import Cell, CellWrite, RowChange, key_text, plan_writes, row_keys
from relay_sheets.domain.layout import (
    LISTINGS,
    ORDERS,
    UnsafeNameError,
    WorksheetLayout,
    channel_spreadsheet,
    merged_feed_spreadsheet,
)
from relay_sheets.domain.merged_feed import sheet_row
from relay_sheets.domain.records import (
    insight_change,
    listing_changes,
    merged_feed_changes,
    order_changes,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 12, tzinfo=UTC)
PAIR = WorksheetLayout("Pairs", ("id", "value"), ("id",))


def test_plan_writes_header_updates_in_place_and_appends_after_merchant_rows() -> None:
    rows: list[list[Cell]] = [["a", 1], [None, None], ["b", 2], [12.0, 3]]
    changes = [
        RowChange(("b",), {"value": 20}),
        RowChange(("new",), {"value": 5}, insert_values={"value": 0}),
        RowChange(("12",), {"value": 30}),
        RowChange(("gone",), {"value": 9}, append=False),
        RowChange(("new",), {"value": 6}),
    ]

    writes = plan_writes(PAIR, ["id"], rows, last_row=7, changes=changes)

    assert writes == [
        CellWrite(1, 2, "value"),
        CellWrite(4, 2, 20),
        CellWrite(8, 1, "new"),
        CellWrite(8, 2, 5),
        CellWrite(5, 2, 30),
        CellWrite(8, 2, 6),
    ]


def test_row_keys_skip_blank_keys_and_keep_the_first_duplicate() -> None:
    assert row_keys(ORDERS, [["O", "A"], ["", ""], ["O", "A"], ["O", 7]]) == {
        ("O", "A"): 0,
        ("O", "7"): 3,
    }
    assert [key_text(v) for v in (None, 3.0, 3.5, " x ")] == ["", "3", "3.5", "x"]


def test_a_layout_key_must_be_a_managed_column() -> None:
    with pytest.raises(ValueError, match="key columns"):
        WorksheetLayout("Bad", ("a",), ("b",))


def test_names_that_cannot_be_folders_are_refused() -> None:
    assert channel_spreadsheet("t-1", "amazon").folder == ("t-1", "amazon")
    assert merged_feed_spreadsheet("t-1").title == "Merged feed"
    for bad in ("..", "a/b", "", "a..b", " x"):
        with pytest.raises(UnsafeNameError):
            channel_spreadsheet("t-1", bad)


FEED = MergedFeed(
    ("sku", "quantity_available", "price", "title"),
    [
        {"sku": "A", "quantity_available": 10, "price": Decimal("12.00"), "title": "Widget"},
        {"sku": "B", "quantity_available": 3, "price": None, "title": None},
    ],
)


def test_merged_feed_rows_become_typed_sheet_cells() -> None:
    data = b"sku,quantity_available,price,title,lead_time_days\nA,10,12.00,Widget,\nB,3,,,2\n"

    feed = read_merged_feed(data)

    assert feed.columns == ("sku", "quantity_available", "price", "title", "lead_time_days")
    assert [sheet_row(row) for row in feed.rows] == [
        {
            "sku": "A",
            "quantity_available": 10,
            "price": 12.0,
            "title": "Widget",
            "lead_time_days": None,
        },
        {
            "sku": "B",
            "quantity_available": 3,
            "price": None,
            "title": None,
            "lead_time_days": 2,
        },
    ]
    with pytest.raises(MergedFeedError, match="row 2: price 'x' is not a number"):
        read_merged_feed(b"sku,quantity_available,price\nA,1,x\n")
    with pytest.raises(MergedFeedError, match="no column quantity_available"):
        read_merged_feed(b"sku\nA\n")


def test_listing_and_merged_feed_changes() -> None:
    allocation = AllocationConfig(share_pct=Decimal(50), buffer=1)

    assert listing_changes(FEED, allocation, T0) == [
        RowChange(
            ("A",),
            {"quantity": 4, "title": "Widget", "price": 12.0},
            {"status": "active", "listed_date": "2026-03-01T12:00:00Z"},
        ),
        RowChange(
            ("B",), {"quantity": 0}, {"status": "active", "listed_date": "2026-03-01T12:00:00Z"}
        ),
    ]
    assert merged_feed_changes(FEED) == [
        RowChange(("A",), {"quantity_available": 10, "price": 12.0, "title": "Widget"}),
        RowChange(("B",), {"quantity_available": 3, "price": None, "title": None}),
    ]


def order(*items: tuple[str, int]) -> OrderShipped:
    return OrderShipped(
        event_id="e1",
        occurred_at=T1,
        tenant_id="t1",
        correlation_id="c",
        order_id="O-1",
        channel="amazon",
        status="shipped",
        shipped_at=T1,
        items=[OrderItem(sku=sku, quantity=quantity) for sku, quantity in items],
    )


def test_order_changes_apply_only_new_lines_to_known_listings() -> None:
    listings: list[dict[str, Cell]] = [
        dict(
            zip(
                LISTINGS.columns,
                ["A", None, 2, None, "active", None, "2026-03-05T00:00:00Z"],
                strict=True,
            )
        ),
        dict(zip(LISTINGS.columns, ["B", None, 9, None, "active", None, None], strict=True)),
        dict(zip(LISTINGS.columns, ["C", None, "lots", None, "active", None, None], strict=True)),
    ]
    orders: list[dict[str, Cell]] = [
        {"order_id": "O-1", "sku": "B", "quantity": 1, "shipped_at": "x"}
    ]

    new_orders, sold = order_changes(
        order(("A", 3), ("B", 1), ("C", 1), ("Z", 1), ("A", 1)), orders, listings
    )

    shipped = "2026-03-02T12:00:00Z"
    assert new_orders == [
        RowChange(("O-1", "A"), {"quantity": 4, "shipped_at": shipped}),
        RowChange(("O-1", "C"), {"quantity": 1, "shipped_at": shipped}),
        RowChange(("O-1", "Z"), {"quantity": 1, "shipped_at": shipped}),
    ]
    assert sold == [
        RowChange(("A",), {"quantity": 0}, append=False),
        RowChange(("C",), {"last_sold_at": shipped}, append=False),
    ]


def insight(status: Literal["open", "resolved"], since: datetime) -> InsightGenerated:
    return InsightGenerated(
        event_id="e",
        occurred_at=since,
        tenant_id="t1",
        correlation_id="c",
        insight_id="i",
        channel="amazon",
        sku="A",
        kind="aged",
        status=status,
        since=since,
        detail={"quantity": 3, "listed_date": None},
    )


def test_insight_changes_only_move_forward() -> None:
    detail = '{"listed_date": null, "quantity": 3}'
    opened = {"kind": "aged", "sku": "A", "status": "open", "since": "2026-03-01T12:00:00Z"}
    resolved = {**opened, "status": "resolved", "since": "2026-03-02T12:00:00Z"}

    assert insight_change(insight("open", T0), []) == RowChange(
        ("aged", "A"), {"status": "open", "since": "2026-03-01T12:00:00Z", "detail": detail}
    )
    assert insight_change(insight("resolved", T1), [opened]) == RowChange(
        ("aged", "A"), {"status": "resolved", "since": "2026-03-02T12:00:00Z", "detail": detail}
    )
    assert insight_change(insight("open", T0), [resolved]) is None
    assert insight_change(insight("open", T1), [resolved]) is None
    assert insight_change(insight("open", T1), [opened]) == RowChange(
        ("aged", "A"), {"status": "open", "since": "2026-03-02T12:00:00Z", "detail": detail}
    )
