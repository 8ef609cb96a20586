"""A merged feed too long for a spreadsheet, read only for its Listings columns (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay_shared import merged_columns
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
        (b"sku,quantity_available\nA-1,many\n", "row 2: quantity_available 'many' is not a whole"),
        (b"sku,quantity_available,price\nA-1,1,cheap\n", "row 2: price 'cheap' is not a number"),
        (b"sku,quantity_available,price\nA-1,1,inf\n", "row 2: price 'inf' is not a number"),
        # the first bad cell in file order, as the shared reader finds it
        (b"sku,price,quantity_available\nA,1,2\nB,x,y\n", "row 3: price 'x' is not a number"),
        (b"sku,quantity_available,price\nA,1,1e400\n", "row 2: price '1e400' is too large"),
    ],
)
def test_read_long_feed_refuses_what_the_shared_reader_refuses(data: bytes, message: str) -> None:
    with pytest.raises(MergedFeedError) as caught:
        read_long_feed(data)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "data",
    [
        b"sku,quantity_available,price,title\nA,1_000,1_2.5,\x1ft\x1e\n",
        b"sku,quantity_available,title\rA,1,x\r\rB,2,y\r",
        b"sku,quantity_available,title,title\nA,1,x,y\n",
        b'sku,quantity_available,title\nA,1,"a" "b"\nB,\xd9\xa3,c\n',
        b"\xef\xbb\xbfsku,quantity_available,price\n\nA,+7,1e2\nB\n",
        b"sku,quantity_available\n" + b"".join(b"S%d,%d\n" % (i, i) for i in range(7)),
    ],
)
@pytest.mark.parametrize("chunk_rows", [1, 2, merged_columns.CHUNK_ROWS])
def test_read_long_feed_reads_the_rows_and_cells_the_shared_reader_reads(
    data: bytes, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(merged_columns, "CHUNK_ROWS", chunk_rows)
    shared = read_merged_feed(data)

    assert read_long_feed(data).frame.rows() == [
        (
            row["sku"],
            row["quantity_available"],
            row.get("title"),
            None if row.get("price") is None else float(str(row["price"])),
        )
        for row in shared.rows
    ]


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
