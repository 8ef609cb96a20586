"""A merged feed too long for a spreadsheet, read only for its Listings columns (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay_shared.channel_config import AllocationConfig
from relay_shared.merged_feed import MergedFeedError, read_merged_feed
from relay_sheets.domain.grid import RowChange
from relay_sheets.domain.long_feed import listing_updates, most_rows, read_long_feed
from relay_sheets.domain.records import listing_changes

FEED = (
    b"sku,quantity_available,price,title,vendor_id,updated_at\n"
    b"A-1,10,12.00,Widget,v1,\n"
    b" B-2 ,2,, ,v1,\n"
    b'C-3,0,7.50,"Gadget, large\nand heavy",v1,\n'
)


def test_most_rows_is_an_upper_bound_without_parsing() -> None:
    assert most_rows(FEED) == 4  # C-3's quoted line break counts as a line
    assert most_rows(FEED.rstrip(b"\n")) == 4
    assert most_rows(b"sku,quantity_available\n") == 0
    assert most_rows(b"") == 0


def test_read_long_feed_types_cells_as_the_shared_reader_does() -> None:
    feed = read_long_feed(FEED)

    assert feed.rows == 3
    assert feed.frame.rows() == [
        ("A-1", 10, "Widget", 12.0),
        ("B-2", 2, None, None),
        ("C-3", 0, "Gadget, large\nand heavy", 7.5),
    ]
    shared = read_merged_feed(FEED)
    assert [(r["sku"], r["quantity_available"], r["title"]) for r in shared.rows] == [
        (sku, qty, title) for sku, qty, title, _ in feed.frame.rows()
    ]


def test_a_feed_without_title_or_price_reads_them_as_blank() -> None:
    feed = read_long_feed(b"sku,quantity_available\nA-1,3\n")

    assert feed.frame.rows() == [("A-1", 3, None, None)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,price\nA-1,1.00\n", "the merged feed has no column quantity_available"),
        (b"sku,quantity_available\nA-1,many\n", "a quantity or price is not a number"),
        (b"sku,quantity_available,price\nA-1,1,cheap\n", "a quantity or price is not a number"),
        (b"sku,quantity_available,price\nA-1,1,inf\n", "a price is not a finite number"),
    ],
)
def test_read_long_feed_refuses_what_the_shared_reader_refuses(data: bytes, message: str) -> None:
    with pytest.raises(MergedFeedError, match=message):
        read_long_feed(data)


def test_listing_updates_change_only_listed_skus_with_the_same_values() -> None:
    allocation = AllocationConfig(share_pct=100, buffer=2)
    listed = {"A-1", "C-3"}

    updates = listing_updates(read_long_feed(FEED), allocation, listed)

    assert updates == [
        RowChange(("A-1",), {"quantity": 8, "title": "Widget", "price": 12.0}, append=False),
        RowChange(
            ("C-3",),
            {"quantity": 0, "title": "Gadget, large\nand heavy", "price": 7.5},
            append=False,
        ),
    ]
    full = listing_changes(read_merged_feed(FEED), allocation, datetime(2026, 1, 1, tzinfo=UTC))
    assert [(c.key, dict(c.values)) for c in full if c.key[0] in listed] == [
        (u.key, dict(u.values)) for u in updates
    ]
