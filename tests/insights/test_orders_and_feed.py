"""Order lines, sales, and reading the merged csv."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay_insights.domain.merged_feed import read_merged_offers
from relay_insights.domain.orders import OrderLine, apply_sales, order_lines
from relay_insights.domain.products import Product
from relay_shared.merged_feed import MergedFeedError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)
T2 = datetime(2026, 1, 3, tzinfo=UTC)


def test_order_lines_sum_a_repeated_sku_and_mark_unknown_ones() -> None:
    lines = order_lines("O-1", "ebay", [("A", 2), ("Z", 1), ("A", 3)], T1, known_skus={"A"})

    assert lines == [
        OrderLine("O-1", "A", "ebay", 5, T1, None),
        OrderLine("O-1", "Z", "ebay", 1, T1, "unknown_sku"),
    ]


def test_sales_subtract_never_below_zero_and_keep_the_latest_sale() -> None:
    products = {
        "A": Product("ebay", "A", None, None, 3, "active", T0, None),
        "B": Product("ebay", "B", None, None, 10, "active", T0, T2),
    }
    lines = [
        OrderLine("O-1", "A", "ebay", 5, T1),
        OrderLine("O-1", "B", "ebay", 4, T1),
        OrderLine("O-1", "Z", "ebay", 1, T1, "unknown_sku"),
    ]

    assert apply_sales(lines, products) == [
        Product("ebay", "A", None, None, 0, "active", T0, T1),
        Product("ebay", "B", None, None, 6, "active", T0, T2),
    ]


def test_merged_offers_read_quantities_titles_and_prices() -> None:
    data = (
        b"sku,quantity_available,price,title,vendor_id\n"
        b'A-1,10,12.00,Widget,v1\nB-2,,,,v1\nC-3,-4,1.5,"Big, red",v2\n'
    )

    offers = read_merged_offers(data)

    assert offers.frame.to_dicts() == [
        {"sku": "A-1", "quantity": 10, "title": "Widget", "price": "12.00"},
        {"sku": "B-2", "quantity": 0, "title": None, "price": None},
        {"sku": "C-3", "quantity": 0, "title": "Big, red", "price": "1.5"},
    ]
    assert offers.skus == ["A-1", "B-2", "C-3"]
    assert offers.quantities() == [0, 10]


def test_merged_offers_without_title_or_price_columns_have_nulls() -> None:
    offers = read_merged_offers(b"\xef\xbb\xbfquantity_available,sku\n 3 , A \n")

    assert offers.frame.to_dicts() == [{"sku": "A", "quantity": 3, "title": None, "price": None}]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # cells polars leaves untyped go through the shared reader's cell rule
        (b"sku,quantity_available,price\nA,1_000,1_2.5\n", (1000, "12.50")),
        # a price with an exponent is rounded to cents, as Postgres would
        (b"sku,quantity_available,price\nA,+7,1e2\n", (7, "100.00")),
        (b"sku,quantity_available,price\nA,7,1.005E0\n", (7, "1.01")),
        (b"sku,quantity_available,price\nA,7,-2.5e-3\n", (7, "-0.00")),
        # a blank line: csv skips it, so the shared reader reads the file
        (b"sku,quantity_available,price\n\nA,5,2.50\n", (5, "2.50")),
    ],
)
def test_merged_offers_type_every_cell_as_the_shared_reader_does(
    data: bytes, expected: tuple[int, str]
) -> None:
    offers = read_merged_offers(data)

    assert offers.frame.to_dicts() == [
        {"sku": "A", "quantity": expected[0], "title": None, "price": expected[1]}
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,price\nA,1\n", "the merged feed has no column quantity_available"),
        (b"quantity_available\n1\n", "the merged feed has no column sku"),
        (
            b"sku,quantity_available\nA,ten\n",
            "row 2: quantity_available 'ten' is not a whole number",
        ),
        (b"sku,quantity_available\nA,1\nA,2\n", "row 3: sku 'A' appears twice"),
        (b"sku,quantity_available\n,1\n", "row 2: empty sku"),
        (b"sku,quantity_available,price\nA,1,abc\n", "row 2: price 'abc' is not a number"),
        (b"sku,quantity_available\n\xff,1\n", "the merged feed is not UTF-8"),
        (
            b"sku,quantity_available\nA,99999999999999999999\n",
            "row 2: quantity_available '99999999999999999999' is too large",
        ),
        # a product's quantity is a Postgres int
        (
            b"sku,quantity_available\nA,1\nB,2147483648\n",
            "row 3: quantity_available '2147483648' is too large",
        ),
        # the same through the shared reader (a blank line), before a sku problem
        (
            b"sku,quantity_available\n\nA,1\nA,2147483648\n",
            "row 3: quantity_available '2147483648' is too large",
        ),
        # a bad number anywhere comes before any sku problem
        (
            b"sku,quantity_available\nA,1\nA,2\nB,x\n",
            "row 4: quantity_available 'x' is not a whole number",
        ),
        # of two bad numbers, the first in file order; in one row, the first column
        (
            b"sku,price,quantity_available\nA,1,2\nB,p,q\nC,3,r\n",
            "row 3: price 'p' is not a number",
        ),
        (
            b"sku,price,quantity_available\nA,1,q\nB,p,2\n",
            "row 2: quantity_available 'q' is not a whole number",
        ),
        (b"sku,quantity_available\nA,1\n\n,2\n", "row 3: empty sku"),
    ],
)
def test_merged_offers_refuse_bad_feeds(data: bytes, message: str) -> None:
    with pytest.raises(MergedFeedError) as caught:
        read_merged_offers(data)
    assert str(caught.value) == message
