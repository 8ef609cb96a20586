"""The one reader of merged_inventory.csv (shared by insights and sheets)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from relay_shared.merged_feed import MergedFeed, MergedFeedError, read_merged_feed

DATA = (
    b"sku,vendor_sku,quantity_available,price,cost,lead_time_days,title\n"
    b'A,a1,10,12.00,9.50,,"Big, red"\n'
    b"B,,-2,,,3, \n"
)


def test_cells_are_typed_by_column() -> None:
    feed = read_merged_feed(DATA)
    assert feed == MergedFeed(
        ("sku", "vendor_sku", "quantity_available", "price", "cost", "lead_time_days", "title"),
        [
            {
                "sku": "A",
                "vendor_sku": "a1",
                "quantity_available": 10,
                "price": Decimal("12.00"),
                "cost": Decimal("9.50"),
                "lead_time_days": None,
                "title": "Big, red",
            },
            {
                "sku": "B",
                "vendor_sku": None,
                "quantity_available": -2,
                "price": None,
                "cost": None,
                "lead_time_days": 3,
                "title": None,
            },
        ],
    )


def test_only_the_columns_asked_for_are_kept_and_looked_at() -> None:
    data = b"sku,quantity_available,cost,title\nA,1,not money,T\n"
    with pytest.raises(MergedFeedError, match="row 2: cost 'not money' is not a number"):
        read_merged_feed(data)
    feed = read_merged_feed(data, {"sku", "quantity_available", "title", "price"})
    assert feed == MergedFeed(
        ("sku", "quantity_available", "title"),
        [{"sku": "A", "quantity_available": 1, "title": "T"}],
    )


HEAD = b"sku,quantity_available"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the merged feed has no column sku, quantity_available"),
        (b"title\nx\n", "the merged feed has no column sku, quantity_available"),
        (HEAD + b"\n\xff,1\n", "the merged feed is not UTF-8"),
        (HEAD + b"\nA,1.5\n", "row 2: quantity_available '1.5' is not a whole number"),
        (HEAD + b",lead_time_days\nA,1,2w\n", "row 2: lead_time_days '2w' is not a whole number"),
        (HEAD + b",price\nA,1,NaN\n", "row 2: price 'NaN' is not a number"),
        (HEAD + b",msrp\nA,1,\nB,2,Infinity\n", "row 3: msrp 'Infinity' is not a number"),
    ],
)
def test_refused_feeds(data: bytes, message: str) -> None:
    with pytest.raises(MergedFeedError) as caught:
        read_merged_feed(data)
    assert str(caught.value) == message


def test_a_bom_is_dropped_and_rows_count_the_header_as_one() -> None:
    feed = read_merged_feed(b"\xef\xbb\xbfsku,quantity_available\r\nA,1\r\nB,2\r\n")
    assert feed.columns == ("sku", "quantity_available")
    assert [MergedFeed.row_number(i) for i, _ in enumerate(feed.rows)] == [2, 3]
