"""Property: the vectorised normalizer equals the per-row oracle (``oracle.clean_row``).

Random rows mix clean shapes (which take the polars path) with dirty cells (the Python path),
so any divergence between the two shows up as a different normalized row or finding.
"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from relay_normalize.domain.clean.cleaning_config import cleaning_config

from .engine_support import AS_OF, make_config, normalize, vendor
from .oracle import clean_row

FIELDS = [
    "sku",
    "quantity_available",
    "cost",
    "map_price",
    "msrp",
    "lead_time_days",
    "condition",
    "brand",
    "title",
    "updated_at",
]
WS = st.sampled_from(["", "", "", "", "", "", "", "", " ", "\u00a0", "\t", "\u2003"])
DIGITS = st.integers(min_value=0, max_value=10**6).map(str)
MONEYISH = st.one_of(
    DIGITS,
    st.builds(lambda a, b: f"{a}.{b}", DIGITS, st.integers(0, 999).map(str)),
    st.builds(lambda a, b: f"{a}.{b:02d}", DIGITS, st.integers(0, 99)),
    st.builds(lambda a, b: f"{a},{b}", DIGITS, st.integers(0, 99).map(str)),
    st.sampled_from(["", "$5", "€5", "-1", "abc", "1,234.5", "1.234,5", ".5", "5.", "USD 3"]),
)
QUANTITYISH = st.one_of(
    DIGITS, DIGITS, st.sampled_from(["", "-3", ">5", "5+", "N/A", "12.0", "in stock", "1 000"])
)
CELLS = {
    "sku": st.one_of(
        st.sampled_from(["A1", "a1", "B-2", "", " c3 ", "1.2E+5", "00123"]), st.text(max_size=4)
    ),
    "quantity_available": QUANTITYISH,
    "cost": MONEYISH,
    "map_price": MONEYISH,
    "msrp": MONEYISH,
    "lead_time_days": st.one_of(DIGITS, st.sampled_from(["", "2 days", "1w", "soon"])),
    "condition": st.sampled_from(
        ["", "new", "new", "New", "USED", "refurb", "mint", "B-Ware", " n "]
    ),
    "brand": st.one_of(st.just("Acme"), st.text(max_size=6)),
    "title": st.text(max_size=8),
    "updated_at": st.sampled_from(
        [
            "",
            "2026-02-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-02-01",
            "x",
        ]
    ),
}
DIRTY_ROW = st.fixed_dictionaries(
    {
        name: st.builds(lambda pad, cell: pad + cell + pad, WS, strategy)
        for name, strategy in CELLS.items()
    }
)
CLEAN_MONEY = st.one_of(
    st.just(""), DIGITS, st.builds(lambda a, b: f"{a}.{b}", DIGITS, st.integers(0, 99).map(str))
)
CLEAN_ROW = st.fixed_dictionaries(
    {
        "sku": st.sampled_from(["A1", "a1", "B-2", "00123", "x y", "1.2E+5", ""]),
        "quantity_available": DIGITS,
        "cost": CLEAN_MONEY,
        "map_price": CLEAN_MONEY,
        "msrp": CLEAN_MONEY,
        "lead_time_days": st.one_of(st.just(""), DIGITS),
        "condition": st.sampled_from(["", "new", "New", "USED", "Refurbished", "b-ware"]),
        "brand": st.one_of(st.just("Acme"), st.text(max_size=6)),
        "title": st.text(max_size=8),
        "updated_at": st.sampled_from(["", "2026-02-01T00:00:00Z", "2026-02-30T00:00:00Z"]),
    }
)
ROW = st.one_of(CLEAN_ROW, DIRTY_ROW)


def _money(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _expected(
    rows: list[dict[str, str]], config_separator: str
) -> tuple[list[list[str]], list[tuple[int, str]]]:
    config = _config(config_separator)
    cleaning = cleaning_config(config, config.vendors[0], AS_OF, None)
    accepted: list[list[str]] = []
    found: list[tuple[int, str]] = []
    seen: set[str] = set()
    number = 1
    for row in rows:
        if all(not cell.strip() for cell in row.values()):
            continue  # a blank record takes no number
        number += 1
        out = clean_row(row, cleaning)
        if out["__error"] is not None:
            found.append((number, out["__error"]))
            continue
        if out["sku"] in seen:
            continue
        seen.add(out["sku"])
        accepted.append(
            [
                out["sku"],
                out["vendor_sku"] or "",
                "v1",
                str(out["quantity_available"]),
                "" if out["lead_time_days"] is None else str(out["lead_time_days"]),
                _money(out["cost"]),
                _money(out["map_price"]),
                _money(out["msrp"]),
                out["condition"],
                out["brand"] or "",
                out["title"] or "",
                out["updated_at"],
            ]
        )
    return accepted, found


def _config(separator: str):  # type: ignore[no-untyped-def]
    column_map = {name: name.upper() for name in FIELDS}
    return make_config(
        [
            vendor(
                parser={
                    "column_map": column_map,
                    "delimiter": ";",
                    "decimal_separator": separator,
                    "quantity_words": {"In Stock": 7},
                    "condition_map": {"b-ware": "refurb"},
                }
            )
        ],
        error_policy={"max_invalid_row_pct": "1"},
    )


def _feed(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([name.upper() for name in FIELDS])
    for row in rows:
        writer.writerow([row[name] for name in FIELDS])
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=12), separator=st.sampled_from([".", ","]))
def test_vectorised_path_equals_the_per_row_reference(
    rows: list[dict[str, str]], separator: str
) -> None:
    rows = [
        {k: v.replace("\r", "").replace("\n", "").replace('"', "") for k, v in row.items()}
        for row in rows
    ]
    if separator == ",":  # write the clean shapes with the decimal comma
        rows = [
            {
                k: (
                    v.replace(".", ",")
                    if k in ("cost", "map_price", "msrp") and "E+" not in v
                    else v
                )
                for k, v in row.items()
            }
            for row in rows
        ]
    feed = normalize(_feed(rows), _config(separator))
    expected_rows, expected_errors = _expected(rows, separator)
    assert feed.normalized_csv is not None
    got = list(csv.reader(io.StringIO(feed.normalized_csv.decode("utf-8"))))[1:]
    assert got == expected_rows
    assert [(item.row, item.code) for item in feed.errors] == expected_errors


def test_the_generated_rows_reach_the_vectorised_path() -> None:
    """Guards the property above: clean rows must take the fast path, or it tests nothing."""
    row = {
        "sku": "A1",
        "quantity_available": "3",
        "cost": "1.50",
        "map_price": "",
        "msrp": "2",
        "lead_time_days": "4",
        "condition": "new",
        "brand": "Acme",
        "title": "t",
        "updated_at": "2026-02-01T00:00:00Z",
    }
    for separator in (".", ","):
        cleaning = cleaning_config(_config(separator), _config(separator).vendors[0], AS_OF, None)
        import polars as pl

        from relay_normalize.domain.clean.fields import fast_mask, field_shapes

        cells = {f"r_{k}": [v.replace(".", separator)] for k, v in row.items()}
        cells["r_vendor_sku"] = [""]
        assert pl.DataFrame(cells).select(fast_mask(field_shapes(cleaning))).item() is True


def _fast_cents(texts: list[str], separator: str) -> tuple[list[bool], list[int | None]]:
    """The fast path's shape test and cents for ``cost`` cells (the vectorised expressions)."""
    import polars as pl

    from relay_normalize.domain.clean.fields import field_shapes

    cleaning = cleaning_config(_config(separator), _config(separator).vendors[0], AS_OF, None)
    shape = field_shapes(cleaning)["cost"]
    assert shape.fast is not None
    frame = pl.DataFrame({"r_cost": texts}).select(
        shape.fast.alias("fast"), shape.value.alias("cost")
    )
    return frame.get_column("fast").to_list(), frame.get_column("cost").to_list()


def test_fast_money_cents_are_exact_across_the_whole_range() -> None:
    """The fast path reads amounts through a float: every amount it accepts (up to 13 digits
    and two decimals) must still come out as its exact integer cents. Amounts whose ×100 is
    not exact in floating point (4.35, 1.15, 0.29, 9999999999999.99 …) are included."""
    import random

    generator = random.Random(20261122)
    cents = [*range(0, 20_000), 10**15 - 1, 10**15 - 100, 2**53 // 100, 435, 115, 29]
    cents += [generator.randrange(10**15) for _ in range(100_000)]
    cents += [generator.randrange(10**k) for k in range(3, 16) for _ in range(2_000)]
    texts = [f"{n // 100}.{n % 100:02d}" for n in cents]
    texts += [f"{n // 100}.{n % 100 // 10}" for n in cents if n % 10 == 0]  # one decimal
    texts += [str(n // 100) for n in cents if n % 100 == 0]  # no decimals
    expected = [*cents, *[n for n in cents if n % 10 == 0], *[n for n in cents if n % 100 == 0]]
    for separator in (".", ","):
        shaped = [text.replace(".", separator) for text in texts]
        fast, got = _fast_cents(shaped, separator)
        assert all(fast)
        mismatches = [(t, g, e) for t, g, e in zip(shaped, got, expected, strict=True) if g != e]
        assert mismatches == []


def test_amounts_beyond_the_fast_shape_take_the_per_cell_rules() -> None:
    """Fourteen integer digits or three decimals are not fast (their float could be off)."""
    fast, _ = _fast_cents(["12345678901234.00", "1.234", "1.2.3", "1e3", "-1.00", " 1.00"], ".")
    assert fast == [False, False, False, False, False, False]
