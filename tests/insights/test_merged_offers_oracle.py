"""``read_merged_offers`` against the shared reader on generated files: the same offers (the
price Postgres would store) or the same error, whatever the file's quoting, line breaks,
blank lines, BOMs, repeated or missing columns and cells."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hypothesis import given, settings
from hypothesis import strategies as st

from relay_insights.domain.merged_feed import (
    OFFER_COLUMNS,
    PRICE_LIMIT,
    QUANTITY_MAX,
    read_merged_offers,
)
from relay_shared.merged_feed import MergedFeed, MergedFeedError, read_merged_feed

CENT = Decimal("0.01")
NAMES = ["sku", "quantity_available", "title", "price", "vendor_id"]
CELLS = [
    "", " ", "A", "B", " a ", "\x1fA\x1e", "\xa0C", "0", "7", "-3", "+5", "1_000", "1.0",
    "2147483647", "2147483648", "99999999999999999999", "1e2", "1.005E0", "-2.5e-3", "1e13",
    "999999999999.994", "999999999999.995", "1e-99999", "NaN", "inf", "x", "٣", '"q"', "a,b",
]  # fmt: skip
cell = st.one_of(st.sampled_from(CELLS), st.text(alphabet='AB1e,."\r\n \x1f-', max_size=6))


def _line(cells: list[str], quoted: list[bool]) -> str:
    return ",".join(
        '"' + c.replace('"', '""') + '"' if q else c for c, q in zip(cells, quoted, strict=False)
    )


@st.composite
def files(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6))
    if draw(st.booleans()):
        header = ["sku", "quantity_available", *header]
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 6))):
        cells = draw(st.lists(cell, max_size=len(header) + 1))
        lines.append(_line(cells, draw(st.lists(st.booleans(), min_size=len(cells)))))
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]), min_size=len(lines)))
    text = "".join(line + end for line, end in zip(lines, ends, strict=False))
    bom = draw(st.sampled_from(["", "\ufeff", "\ufeff\ufeff"]))
    return (bom + text).encode()


def _cents(value: Decimal) -> Decimal:
    try:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return PRICE_LIMIT


def expected(data: bytes) -> str | list[dict[str, object]]:
    """The shared reader's cells with insights' refusals: a bad cell, then a number too
    large, then an empty or repeated sku, each the first in file order."""
    try:
        feed = read_merged_feed(data, OFFER_COLUMNS)
    except MergedFeedError as exc:
        return str(exc)
    for index, row in enumerate(feed.rows):
        for name in feed.columns:
            value = row.get(name)
            large = (name == "quantity_available" and isinstance(value, int) and
                     value > QUANTITY_MAX) or (name == "price" and isinstance(value, Decimal)
                                               and abs(_cents(value)) >= PRICE_LIMIT)  # fmt: skip
            if large:
                return f"row {MergedFeed.row_number(index)}: {name} '{value}' is too large"
    seen: set[object] = set()
    for index, row in enumerate(feed.rows):
        sku, number = row.get("sku"), MergedFeed.row_number(index)
        if sku is None:
            return f"row {number}: empty sku"
        if sku in seen:
            return f"row {number}: sku {sku!r} appears twice"
        seen.add(sku)
    return [
        {
            "sku": row.get("sku"),
            "quantity": max(q, 0) if isinstance(q := row.get("quantity_available"), int) else 0,
            "title": row.get("title"),
            "price": None if not isinstance(p := row.get("price"), Decimal) else _cents(p),
        }
        for row in feed.rows
    ]


def found(data: bytes) -> str | list[dict[str, object]]:
    try:
        offers = read_merged_offers(data)
    except MergedFeedError as exc:
        return str(exc)
    return [
        {**row, "price": None if row["price"] is None else _cents(Decimal(row["price"]))}
        for row in offers.frame.to_dicts()
    ]


@settings(max_examples=400, deadline=None)
@given(files())
def test_the_offers_are_the_shared_readers(data: bytes) -> None:
    assert found(data) == expected(data)


def test_the_cases_a_review_found() -> None:
    cases = [
        b"sku,quantity_available,title\n\x1f,1,t\n",
        b"sku,quantity_available,title\nA\x1f,1,\x1ft\x1e\n",
        b"sku,quantity_available,title\nA,1,x\ry\n",
        b"sku,quantity_available,title\rA,1,x\r",
        b"sku,quantity_available,title,title\nA,1,x,y\n",
        b"sku,quantity_available,price,price\nA,1,x,2\n",
        b"sku,quantity_available,sku\nA,1,B\n",
        b'sku,quantity_available,title\nA,1,"a" "b"\n',
        b'sku,quantity_available,title\nA,1,"t"x"y"\n',
        b"sku,quantity_available,title,price\nA,2147483648,t,1\nB,1,t,x\n",
        b"sku,quantity_available,title,price\n\nA,2147483648,t,1\nB,1,t,x\n",
        b"\xef\xbb\xbf\xef\xbb\xbfsku,quantity_available\nA,1\n",
        b"sku,quantity_available,price\nA,1,1e-99999\n",
        b"sku,quantity_available,price\nA,1,1000000000000\n",
    ]
    assert [found(data) for data in cases] == [expected(data) for data in cases]
    assert found(cases[3]) == [{"sku": "A", "quantity": 1, "title": "x", "price": None}]
    assert found(cases[9]) == "row 3: price 'x' is not a number"
    assert found(cases[13]) == "row 2: price '1000000000000' is too large"
