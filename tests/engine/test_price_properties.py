"""Hypothesis properties of pricing: floor, ceiling, cents ending, vector = scalar, determinism."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from relay_pricing.domain.pricing_frame import raw_price_column, with_price
from relay_pricing.domain.rounding import PriceRule, floor_cents, price_cents
from relay_shared.tenant_config import PricingConfig

from .engine_support import make_config, run, vendor

CENTS = st.integers(min_value=0, max_value=10**9)


@st.composite
def rules(draw: st.DrawFn) -> PriceRule:
    basis = draw(st.sampled_from(["markup", "gross_margin"]))
    pct = draw(st.decimals(min_value=0, max_value=Decimal("0.95"), places=3))
    min_price = draw(st.integers(0, 10**6))
    max_price = draw(st.one_of(st.none(), st.integers(min_price, 10**7)))
    data = {
        "base_margin_pct": str(pct),
        "margin_basis": basis,
        "min_price": f"{min_price / 100:.2f}",
        "max_price": None if max_price is None else f"{max_price / 100:.2f}",
        "map_policy": {"enforce": draw(st.booleans())},
        "rounding": {
            "mode": draw(st.sampled_from(["none", "nearest", "up", "down"])),
            "increment": f"0.{draw(st.integers(0, 99)):02d}",
        },
    }
    return PriceRule.from_config(PricingConfig.model_validate(data))


@settings(max_examples=400, deadline=None)
@given(rule=rules(), landed=CENTS, map_cents=st.one_of(st.none(), CENTS))
def test_price_is_never_below_the_floor(
    rule: PriceRule, landed: int, map_cents: int | None
) -> None:
    assert price_cents(landed, map_cents, rule) >= floor_cents(rule, map_cents)


@settings(max_examples=400, deadline=None)
@given(rule=rules(), landed=CENTS, map_cents=st.one_of(st.none(), CENTS))
def test_price_is_above_max_only_when_the_floor_forces_it(
    rule: PriceRule, landed: int, map_cents: int | None
) -> None:
    price = price_cents(landed, map_cents, rule)
    if rule.max_cents is not None and price > rule.max_cents:
        floor = floor_cents(rule, map_cents)
        assert floor > rule.max_cents or price - 100 < floor  # the smallest ending ≥ floor


@settings(max_examples=400, deadline=None)
@given(rule=rules(), landed=CENTS, map_cents=st.one_of(st.none(), CENTS))
def test_price_ends_in_the_configured_cents_when_rounding(
    rule: PriceRule, landed: int, map_cents: int | None
) -> None:
    if rule.mode != "none":
        assert price_cents(landed, map_cents, rule) % 100 == rule.ending


@settings(max_examples=100, deadline=None)
@given(
    rule=rules(),
    offers=st.lists(st.tuples(CENTS, st.one_of(st.none(), CENTS)), min_size=1, max_size=20),
)
def test_vectorised_price_equals_the_scalar_one(
    rule: PriceRule, offers: list[tuple[int, int | None]]
) -> None:
    frame = pl.DataFrame(offers, schema={"landed": pl.Int64, "map": pl.Int64}, orient="row")
    frame = frame.with_columns(raw_price_column(frame, "landed", rule))
    prices = with_price(frame.lazy(), "raw", "map", rule).collect().get_column("price").to_list()
    assert prices == [price_cents(landed, map_cents, rule) for landed, map_cents in offers]


FEED_ROW = st.tuples(
    st.sampled_from(["A", "B", "c", "D-1", ""]),
    st.sampled_from(["1", "0", "-2", "x", ">5"]),
    st.sampled_from(["1.00", "", "2.5", "$3", "abc"]),
)


@settings(max_examples=40, deadline=None)
@given(a=st.lists(FEED_ROW, max_size=8), b=st.lists(FEED_ROW, max_size=8))
def test_same_inputs_give_the_same_bytes(
    a: list[tuple[str, str, str]], b: list[tuple[str, str, str]]
) -> None:
    column_map = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
    config = make_config(
        [
            vendor("a", parser={"column_map": column_map}),
            vendor("b", parser={"column_map": column_map}),
        ],
        error_policy={"max_invalid_row_pct": "1"},
        output={"format": "json"},
    )
    feeds = {
        name: ("SKU,QTY,COST\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
        for name, rows in (("a", a), ("b", b))
    }
    assert run(config, feeds).files == run(config, feeds).files
