"""Tenant configs written to hurt: every one is refused with the path of the bad value, by the
same validator the gateway runs at ``PUT …/config`` and every service runs when it loads a
version (issue 9)."""

from __future__ import annotations

from typing import Any

import pytest

from relay_shared.keys import ForeignKeyError, is_tenant_key, tenant_key
from relay_shared.tenant_config import ConfigError, parse_tenant_config
from tests.engine.engine_support import config_data, vendor

TEXT_ONLY = (
    "is not a supported text encoding (one of: ascii, big5, cp1250, cp1251, cp1252, cp437,"
    " cp850, cp932, cp949, euc_jp, euc_kr, gb18030, gb2312, gbk, iso8859-15, iso8859-2,"
    " koi8-r, latin-1, mac-roman, shift_jis, utf-16, utf-16-be, utf-16-le, utf-32, utf-8,"
    " utf-8-sig)"
)
VENDOR_SHAPE = (
    "a vendor id is 1-64 letters, digits, '_', '-' or '.', starting with a letter or a digit"
)
UNDER_T1 = "must lie under tenants/t1/ (no '..' or '.' parts)"


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_tenant_config(data)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            config_data([vendor(sku_map={"type": "file", "s3_key": "tenants/t2/config/m.csv"})]),
            f"vendors[0].sku_map.s3_key: {UNDER_T1}",
        ),
        (
            config_data([vendor(sku_map={"s3_key": "tenants/t1/config/../../t2/m.csv"})]),
            f"vendors[0].sku_map.s3_key: {UNDER_T1}",
        ),
        (
            config_data([vendor(inbound={"s3_prefix": "tenants/t2/inbound/v1/"})]),
            f"vendors[0].inbound.s3_prefix: {UNDER_T1}",
        ),
        (
            config_data([vendor(parser={"encoding": "bz2_codec"})]),
            f"vendors[0].parser.encoding: 'bz2_codec' {TEXT_ONLY}",
        ),
        (
            config_data([vendor(parser={"encoding": "rot13"})]),
            f"vendors[0].parser.encoding: 'rot13' {TEXT_ONLY}",
        ),
        (
            config_data([vendor(parser={"header_row": 99999999999999999999999})]),
            "vendors[0].parser.header_row: Input should be less than or equal to 1000000",
        ),
        (
            config_data([vendor("../../acme/inbound/vendor_2")]),
            f"vendors[0].vendor_id: {VENDOR_SHAPE}",
        ),
        (config_data([vendor("v" * 5000)]), f"vendors[0].vendor_id: {VENDOR_SHAPE}"),
        (config_data([vendor('"quoted"')]), f"vendors[0].vendor_id: {VENDOR_SHAPE}"),
        (
            config_data([vendor(shipping_handling_flat="1e999999")]),
            "vendors[0].shipping_handling_flat: must be at most 1000000000.00",
        ),
        (
            config_data(pricing={"base_margin_pct": "1e400"}),
            "pricing.base_margin_pct: must be from 0 to 100",
        ),
        (
            config_data(pricing={"base_margin_pct": 1e400}),
            "pricing.base_margin_pct: Input should be a finite number",
        ),
        (
            config_data(shipstation={"store_channels": {"1": "../x"}}),
            "shipstation.store_channels: store '1': '../x' is not a channel name",
        ),
        (
            config_data([vendor(parser={"defaults": {"brand": "b" * 1001}})]),
            "vendors[0].parser.defaults: must be at most 1000 characters",
        ),
    ],
)
def test_a_hostile_config_is_refused_by_path(data: dict[str, Any], expected: str) -> None:
    assert _problems(data) == [expected]


def test_the_tenant_id_has_its_shape() -> None:
    assert _problems(config_data(tenant_id="a\x00b")) == [
        "tenant_id: String should match pattern '^[a-z0-9][a-z0-9_-]{0,62}$'"
    ]


def test_aliases_of_text_encodings_are_accepted() -> None:
    data = config_data([vendor(parser={"encoding": "Windows-1252"})])
    assert parse_tenant_config(data).vendors[0].parser.encoding == "Windows-1252"


@pytest.mark.parametrize(
    ("key", "owned"),
    [
        ("tenants/t1/config/sku_map_v1.csv", True),
        ("tenants/t1/inbound/v1/", True),
        ("tenants/t1/", False),
        ("tenants/t10/config/m.csv", False),
        ("tenants/t1/../t2/config/m.csv", False),
        ("tenants/t1/./config/m.csv", False),
        ("tenants/t1//config/m.csv", False),
        ("tenants/t1/config\\..\\m.csv", False),
        ("tenants/t1/config/m\x00.csv", False),
        ("/tenants/t1/config/m.csv", False),
    ],
)
def test_a_key_is_the_tenants_own_only_under_its_prefix(key: str, owned: bool) -> None:
    assert is_tenant_key("t1", key) is owned


def test_a_foreign_key_is_refused_without_saying_whether_it_exists() -> None:
    with pytest.raises(ForeignKeyError) as caught:
        tenant_key("t1", "tenants/t2/config/m.csv")
    assert str(caught.value) == "must lie under tenants/t1/ (got 'tenants/t2/config/m.csv')"
    assert tenant_key("t1", "tenants/t1/a.csv") == "tenants/t1/a.csv"
