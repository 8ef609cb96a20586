"""Order lines, sales, and reading the merged csv."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from relay_insights.domain.merged_feed import MergedOffer, parse_merged_csv
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


def test_parse_merged_csv_reads_quantities_titles_and_prices() -> None:
    data = (
        b"sku,quantity_available,price,title,vendor_id\n"
        b'A-1,10,12.00,Widget,v1\nB-2,,,,v1\nC-3,-4,1.5,"Big, red",v2\n'
    )

    assert parse_merged_csv(data) == [
        MergedOffer("A-1", 10, "Widget", Decimal("12.00")),
        MergedOffer("B-2", 0, None, None),
        MergedOffer("C-3", 0, "Big, red", Decimal("1.5")),
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
    ],
)
def test_parse_merged_csv_refuses_bad_feeds(data: bytes, message: str) -> None:
    with pytest.raises(MergedFeedError) as caught:
        parse_merged_csv(data)
    assert str(caught.value) == message
