"""Tenant config: the seed example, defaults, unknown keys, problems listed by 0-based path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from relay_shared.tenant_config import ConfigError, parse_tenant_config

from .engine_support import config_data, vendor

# shared/ sits beside the repo (locally and in CI)
SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "003_807606beb9ada474.txt"
SEED_YAML = Path(__file__).parent / "data" / "seed_tenant.yaml"


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_tenant_config(data)
    return [str(problem) for problem in caught.value.problems]


def test_the_seed_example_validates_unchanged() -> None:
    config = parse_tenant_config(yaml.safe_load(SEED_YAML.read_text(encoding="utf-8")))
    assert config.tenant_id == "acme_parts"
    assert config.timezone == "America/Los_Angeles"
    assert config.pricing.min_price == Decimal("25.0")
    assert config.pricing.shipping_handling_flat == Decimal("9.99")
    assert config.pricing.rounding.mode == "nearest"
    assert config.merge.best_offer.fallback_lead_time_days == 7
    assert config.vendors[0].sku_map is not None
    assert config.vendors[0].sku_map.s3_key == "tenants/acme_parts/config/sku_map_vendor_1.csv"
    assert config.output.columns == [
        "sku",
        "quantity_available",
        "price",
        "vendor_id",
        "updated_at",
    ]


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed is outside the repo")
def test_the_committed_copy_is_the_seed_section_8() -> None:
    text = SEED.read_text(encoding="utf-8")
    start = text.index("```yaml", text.index("## 8) Configuration")) + len("```yaml\n")
    assert SEED_YAML.read_text(encoding="utf-8") == text[start : text.index("```", start)]


def test_defaults_apply_when_keys_are_absent() -> None:
    config = parse_tenant_config(config_data())
    assert config.schema_version == 1
    assert config.timezone == "UTC"
    assert config.default_currency == "USD"
    assert config.config_version is None
    first = config.vendors[0]
    assert first.required is True
    assert config.vendor_currency(first) == "USD"
    assert config.vendor_shipping_handling(first) == Decimal("0.00")
    assert first.parser.delimiter == ","
    assert first.parser.encoding == "utf-8"
    assert first.parser.decimal_separator == "."
    assert first.parser.header_row == 1
    assert first.parser.sheet is None
    assert config.pricing.margin_basis == "markup"
    assert config.pricing.min_price == Decimal("0.00")
    assert config.pricing.max_price is None
    assert config.pricing.map_policy.enforce is True
    assert config.pricing.rounding.mode == "none"
    assert config.pricing.rounding.increment == Decimal("0.99")
    assert config.merge.strategy == "best_offer"
    assert config.merge.priority == []
    assert config.merge.quantity_policy == "chosen"
    assert config.merge.best_offer.sort_by == ["in_stock_desc", "lowest_landed_cost"]
    assert config.merge.best_offer.landed_cost.include_shipping_handling is True
    assert config.merge.best_offer.fallback_lead_time_days is None
    assert config.error_policy.max_invalid_row_pct == Decimal("0.05")
    assert config.sku.case == "upper"
    assert config.output.format == "csv"
    assert config.output.columns == [
        "sku",
        "quantity_available",
        "price",
        "vendor_id",
        "updated_at",
    ]


def test_vendor_values_override_tenant_defaults() -> None:
    data = config_data(
        [vendor(currency="eur", shipping_handling_flat="4.99")],
        default_currency="GBP",
        pricing={"shipping_handling_flat": "1.00"},
    )
    config = parse_tenant_config(data)
    assert config.vendor_currency(config.vendors[0]) == "EUR"
    assert config.vendor_shipping_handling(config.vendors[0]) == Decimal("4.99")


def test_other_specs_sections_are_accepted() -> None:
    data = config_data(
        shipstation={"store_channels": {"1": "amazon"}},
        channels={"amazon": {}},
        insights={},
        sheets={"a": 2},
    )
    assert parse_tenant_config(data).channels == {"amazon": {}}


def test_unknown_keys_are_refused_with_their_path() -> None:
    data = config_data([vendor(parser={"delimeter": ";"})], pricng={})
    assert _problems(data) == ["vendors[0].parser.delimeter: unknown key", "pricng: unknown key"]


def test_every_problem_is_listed_by_0_based_path() -> None:
    data = config_data(
        [vendor("a"), vendor("b", parser={"delimiter": ";;", "decimal_separator": ";"})],
        pricing={"base_margin_pct": "-1", "rounding": {"mode": "half", "increment": "1.5"}},
    )
    assert _problems(data) == [
        "vendors[1].parser.delimiter: must be one character",
        "vendors[1].parser.decimal_separator: Input should be '.' or ','",
        "pricing.base_margin_pct: must be from 0 to 100",
        "pricing.rounding.mode: Input should be 'none', 'nearest', 'up' or 'down'",
        "pricing.rounding.increment: must be between 0.00 and 0.99",
    ]


def test_required_keys() -> None:
    assert _problems({"vendors": []}) == [
        "tenant_id: is required",
        "vendors: List should have at least 1 item after validation, not 0",
        "pricing: is required",
    ]


@pytest.mark.parametrize(
    ("column_map", "message"),
    [
        ({"quantity_available": "Q"}, "must map sku or vendor_sku"),
        ({"sku": "S"}, "must map quantity_available"),
        ({"sku": "S", "quantity_available": "Q", "colour": "C"}, "Input should be"),
    ],
)
def test_column_map_needs_an_identity_and_a_quantity(
    column_map: dict[str, str], message: str
) -> None:
    problems = _problems(config_data([vendor(parser={"column_map": column_map})]))
    assert len(problems) == 1
    assert problems[0].startswith("vendors[0].parser.column_map")
    assert message in problems[0]


def test_vendor_sku_alone_is_an_identity() -> None:
    data = config_data(
        [vendor(parser={"column_map": {"vendor_sku": "V", "quantity_available": "Q"}})]
    )
    assert parse_tenant_config(data).vendors[0].parser.column_map["vendor_sku"] == "V"


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"vendors": [vendor("a"), vendor("a")]}, "vendors[1].vendor_id: must be unique"),
        ({"merge": {"priority": ["zz"]}}, "merge.priority[0]: unknown vendor 'zz'"),
        (
            {"pricing": {"base_margin_pct": "1", "margin_basis": "gross_margin"}},
            "pricing.base_margin_pct: must be below 1 for gross_margin",
        ),
        (
            {"pricing": {"base_margin_pct": "0.1", "min_price": "5", "max_price": "4"}},
            "pricing.max_price: must not be below min_price",
        ),
        (
            {"vendors": [vendor(sku_map={"type": "file"})]},
            "vendors[0].sku_map: a file map needs path or s3_key",
        ),
        (
            {"vendors": [vendor(sku_map={"type": "inline"})]},
            "vendors[0].sku_map.entries: an inline map needs entries",
        ),
        (
            {"pricing": {"base_margin_pct": "0.2", "min_price": "1.234"}},
            "pricing.min_price: must have at most two decimals",
        ),
        (
            {"vendors": [vendor(parser={"encoding": "klingon"})]},
            "vendors[0].parser.encoding: unknown encoding 'klingon'",
        ),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
        ({"default_currency": "dollars"}, "default_currency: must be a three-letter ISO 4217 code"),
        (
            {"output": {"columns": ["sku", "sku"]}},
            "output.columns: a column must not be listed twice",
        ),
        ({"schema_version": 2}, "schema_version: Input should be 1"),
        (
            {"vendors": [vendor(parser={"header_row": 0})]},
            "vendors[0].parser.header_row: Input should be greater than or equal to 1",
        ),
    ],
)
def test_cross_field_and_value_rules(sections: dict[str, Any], expected: str) -> None:
    assert expected in _problems(config_data(**sections))


def test_tenant_id_must_match_the_tenant_it_is_put_to() -> None:
    assert parse_tenant_config(config_data(), tenant_id="t1").tenant_id == "t1"
    with pytest.raises(ConfigError) as caught:
        parse_tenant_config(config_data(), tenant_id="other")
    assert [str(p) for p in caught.value.problems] == ["tenant_id: must be 'other'"]


def test_a_config_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError):
        parse_tenant_config(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_a_value_fitting_no_union_member_is_one_problem() -> None:
    data = config_data([vendor(parser={"sheet": [1], "defaults": {"brand": 1.5}})])
    assert _problems(data) == [
        "vendors[0].parser.sheet: must be text or a whole number",
        "vendors[0].parser.defaults.brand: must be text or a whole number",
    ]


def test_free_text_keys_named_like_types_keep_their_message() -> None:
    data = config_data([vendor(parser={"condition_map": {"int": "mint"}})])
    assert _problems(data) == [
        "vendors[0].parser.condition_map.int: Input should be 'new', 'used' or 'refurb'"
    ]
