"""Merge: eligibility, both strategies, every sort key, quantity policies, lead time."""

from __future__ import annotations

from typing import Any

import pytest

from .engine_support import make_config, merged_lines, run, summary, vendor

MAP = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST", "lead_time_days": "LEAD"}
COLUMNS = ["sku", "vendor_id", "quantity_available", "lead_time_days", "price"]


def config(merge: dict[str, Any] | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    vendors = [
        vendor("a", parser={"column_map": MAP}, shipping_handling_flat="5.00"),
        vendor("b", parser={"column_map": MAP}),
        vendor("c", parser={"column_map": MAP}),
    ]
    return make_config(
        vendors,
        merge=merge or {},
        output={"columns": COLUMNS},
        pricing={"base_margin_pct": "0"},
        **extra,
    )


def feed(*rows: str) -> bytes:
    return ("SKU,QTY,COST,LEAD\n" + "\n".join(rows) + "\n").encode()


def winners(merge: dict[str, Any], a: str, b: str, c: str) -> list[str]:
    outputs = run(config(merge), {"a": feed(a), "b": feed(b), "c": feed(c)})
    lines: list[str] = merged_lines(outputs)[1:]
    return lines


def test_default_in_stock_then_lowest_landed_cost() -> None:
    # a: landed 6+5=11 in stock; b: 8 out of stock; c: 12 in stock → a
    assert winners({}, "X,1,6.00,", "X,0,8.00,", "X,3,12.00,") == ["X,a,1,,11.00"]


def test_in_stock_ignores_the_size_of_the_quantity() -> None:
    assert winners({}, "X,1,9.00,", "X,500,10.00,", "X,0,1.00,") == ["X,b,500,,10.00"]


def test_lowest_landed_cost_includes_shipping_handling() -> None:
    merge: dict[str, Any] = {"best_offer": {"sort_by": ["lowest_landed_cost"]}}
    assert winners(merge, "X,1,4.00,", "X,1,8.50,", "X,0,9.50,") == ["X,b,1,,8.50"]
    merge = {
        "best_offer": {
            "sort_by": ["lowest_landed_cost"],
            "landed_cost": {"include_shipping_handling": False},
        }
    }
    assert winners(merge, "X,1,4.00,", "X,1,8.50,", "X,0,9.50,") == ["X,a,1,,4.00"]


def test_shortest_lead_time_nulls_last() -> None:
    merge = {"best_offer": {"sort_by": ["shortest_lead_time"]}}
    assert winners(merge, "X,1,1,", "X,1,2,5", "X,1,3,2") == ["X,c,1,2,3.00"]
    assert winners(merge, "X,1,1,", "X,1,2,", "X,1,3,") == ["X,a,1,,6.00"]


def test_vendor_priority_key_unlisted_last() -> None:
    merge = {"priority": ["c", "b"], "best_offer": {"sort_by": ["vendor_priority"]}}
    assert winners(merge, "X,1,1,", "X,1,2,", "X,1,3,") == ["X,c,1,,3.00"]
    merge = {"priority": ["b"], "best_offer": {"sort_by": ["vendor_priority"]}}
    assert winners(merge, "X,1,1,", "X,1,2,", "X,1,3,") == ["X,b,1,,2.00"]


def test_ties_go_to_the_lowest_vendor_id() -> None:
    merge = {"best_offer": {"sort_by": ["in_stock_desc"]}}
    assert winners(merge, "X,0,1,", "X,1,2,", "X,1,3,") == ["X,b,1,,2.00"]
    assert winners({"best_offer": {"sort_by": []}}, "X,0,1,", "X,1,2,", "X,1,3,") == ["X,a,0,,6.00"]


def test_keys_apply_in_order() -> None:
    merge = {"best_offer": {"sort_by": ["lowest_landed_cost", "in_stock_desc"]}}
    assert winners(merge, "X,0,9,", "X,0,1,", "X,5,2,") == ["X,b,0,,1.00"]


def test_priority_strategy_first_listed_with_stock() -> None:
    merge = {"strategy": "priority", "priority": ["c", "a"]}
    assert winners(merge, "X,1,9,", "X,1,1,", "X,0,1,") == ["X,a,1,,14.00"]
    assert winners(merge, "X,0,9,", "X,1,1,", "X,0,1,") == ["X,b,1,,1.00"]  # unlisted after
    assert winners(merge, "X,0,9,", "X,0,1,", "X,0,2,") == ["X,c,0,,2.00"]  # none in stock


def test_offers_without_cost_are_not_eligible_and_skus_left_out() -> None:
    outputs = run(
        config({}), {"a": feed("X,9,,", "Y,1,,"), "b": feed("X,1,5,"), "c": feed("Z,1,,")}
    )
    assert merged_lines(outputs)[1:] == ["X,b,1,,5.00"]
    assert summary(outputs)["skus_left_out"] == ["Y", "Z"]
    assert outputs.skus_left_out == ["Y", "Z"]
    assert outputs.merged_rows == 1


def test_zero_cost_is_eligible() -> None:
    assert winners({}, "X,1,0.00,", "X,1,1,", "X,1,1,") == ["X,b,1,,1.00"]
    assert winners(
        {"best_offer": {"landed_cost": {"include_shipping_handling": False}}},
        "X,1,0.00,",
        "X,1,1,",
        "X,1,1,",
    ) == ["X,a,1,,0.00"]


@pytest.mark.parametrize(("policy", "quantity"), [("chosen", "2"), ("sum_in_stock", "9")])
def test_quantity_policies(policy: str, quantity: str) -> None:
    merge = {"quantity_policy": policy}
    # a (landed 6) wins; b has stock 7; c has none; the no-cost offer never counts
    rows = winners(merge, "X,2,1,", "X,7,8,", "X,0,1,")
    assert rows == [f"X,a,{quantity},,6.00"]


def test_sum_in_stock_ignores_offers_without_cost() -> None:
    rows = winners({"quantity_policy": "sum_in_stock"}, "X,2,1,", "X,7,,", "X,4,9,")
    assert rows == ["X,a,6,,6.00"]


def test_sum_in_stock_is_zero_when_nothing_is_in_stock() -> None:
    assert winners({"quantity_policy": "sum_in_stock"}, "X,0,1,", "X,0,2,", "X,0,3,") == [
        "X,b,0,,2.00"
    ]


def test_lead_time_is_the_chosen_offers_else_the_fallback() -> None:
    merge = {"best_offer": {"fallback_lead_time_days": 7}}
    assert winners(merge, "X,1,1,3", "Y,1,1,", "Z,1,1,") == [
        "X,a,1,3,6.00",
        "Y,b,1,7,1.00",
        "Z,c,1,7,1.00",
    ]
    strategy = {
        "strategy": "priority",
        "priority": ["a"],
        "best_offer": {"fallback_lead_time_days": 2},
    }
    assert winners(strategy, "X,1,1,", "X,1,1,9", "Y,1,1,") == ["X,a,1,2,6.00", "Y,c,1,2,1.00"]


def test_other_fields_come_from_the_chosen_offer() -> None:
    column_map = {**MAP, "title": "T", "map_price": "M"}
    vendors = [
        vendor("a", parser={"column_map": column_map}),
        vendor("b", parser={"column_map": column_map}),
    ]
    cfg = make_config(
        vendors,
        output={"columns": ["sku", "title", "map_price", "cost", "price"]},
        pricing={"base_margin_pct": "0", "map_policy": {"enforce": False}},
    )
    raw_a = b"SKU,QTY,COST,LEAD,T,M\nX,1,5,,from a,9\n"
    raw_b = b"SKU,QTY,COST,LEAD,T,M\nX,1,4,,from b,\n"
    assert merged_lines(run(cfg, {"a": raw_a, "b": raw_b}))[1:] == ["X,from b,,4.00,4.00"]


def test_rows_sorted_by_sku_in_code_point_order() -> None:
    rows = winners({}, "b,1,1,", "B,1,1,", "Ä,1,1,")
    cfg_preserve = config({}, sku={"case": "preserve"})
    outputs = run(
        cfg_preserve,
        {"a": feed("b,1,1,", "a,1,1,"), "b": feed("B,1,1,"), "c": feed("Ä,1,1,", "Z,1,1,")},
    )
    assert [line.split(",")[0] for line in merged_lines(outputs)[1:]] == ["B", "Z", "a", "b", "Ä"]
    assert [line.split(",")[0] for line in rows] == ["B", "Ä"]
