"""Plugin capabilities at config time: a plugin that does not exist, or an action or kind it
does not support, or missing account fields and credentials, is a problem naming the path."""

from __future__ import annotations

from typing import Any

import pytest

from relay_shared.channel_config import parse_channel_sections
from relay_shared.tenant_config import ConfigError, parse_tenant_config


def _config(channels: dict[str, Any]) -> Any:
    return parse_tenant_config(
        {
            "tenant_id": "t1",
            "vendors": [
                {
                    "vendor_id": "v1",
                    "parser": {"column_map": {"sku": "A", "quantity_available": "B"}},
                }
            ],
            "pricing": {"base_margin_pct": 0.2},
            "channels": channels,
        }
    )


def _problems(channels: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_channel_sections(_config(channels))
    return [str(problem) for problem in caught.value.problems]


AMAZON_ACCOUNT = {"seller_id": "S1", "marketplace_id": "ATVPDKIKX0DER"}


def test_a_channel_names_its_plugin_or_takes_its_own_name() -> None:
    sections = parse_channel_sections(
        _config(
            {
                "amazon": {"actions": {"out_of_stock": "pause"}, "account": AMAZON_ACCOUNT},
                "amazon-uk": {
                    "plugin": "amazon",
                    "actions": {"out_of_stock": "delist"},
                    "account": AMAZON_ACCOUNT,
                },
                "shopify": {"insights": ["aged"]},
            }
        )
    )

    plugins = {name: c.plugin_for(name) for name, c in sections.channels.items()}
    assert {name: None if p is None else p.name for name, p in plugins.items()} == {
        "amazon": "amazon",
        "amazon-uk": "amazon",
        "shopify": None,
    }


def test_unknown_plugins_and_unsupported_actions_and_kinds_name_their_paths() -> None:
    problems = _problems(
        {
            "etsy": {"plugin": "etsy"},
            "shopify": {"actions": {"out_of_stock": "pause"}, "credentials": {"k": "v"}},
            "woot": {
                "insights": ["out_of_stock", "reallocation_candidate"],
                "actions": {"out_of_stock": "delist", "reallocation": "pull"},
            },
        }
    )

    no_plugin = "(amazon, ebay, woot); name one with plugin:"
    assert problems == [
        f"channels.etsy.plugin: no channel plugin is named 'etsy' {no_plugin}",
        f"channels.shopify.actions: no channel plugin is named 'shopify' {no_plugin}",
        f"channels.shopify.credentials: no channel plugin is named 'shopify' {no_plugin}",
        "channels.woot.insights[1]: plugin woot does not act on reallocation_candidate",
        "channels.woot.actions.out_of_stock: plugin woot does not support delist",
        "channels.woot.actions.reallocation: plugin woot does not support pull",
    ]


def test_actions_need_the_account_and_real_calls_need_the_credentials() -> None:
    problems = _problems(
        {
            "amazon": {
                "actions": {"slow_mover": {"reprice_pct": -5}},
                "credentials": {"refresh_token": "r", "password": "p"},
                "dry_run": False,
            },
            "ebay": {"actions": {"out_of_stock": "delist"}, "dry_run": True},
            "woot": {"actions": {"out_of_stock": "pause"}, "dry_run": False},
        }
    )

    assert problems == [
        "channels.amazon.account.seller_id: is required by plugin amazon",
        "channels.amazon.account.marketplace_id: is required by plugin amazon",
        "channels.amazon.credentials.password: is not a credential of plugin amazon"
        " (lwa_client_id, lwa_client_secret, refresh_token)",
        "channels.amazon.credentials.lwa_client_id: is required when dry_run is false",
        "channels.amazon.credentials.lwa_client_secret: is required when dry_run is false",
    ]
