"""Marketplace credentials (``channels.<name>.credentials``) are secrets in the gateway's config
documents like ShipStation's: shown as ``***``, carried when put back as ``***``, refused as
``***`` when no earlier version holds them, and counted by ``has_secrets``."""

from __future__ import annotations

from typing import Any

import pytest

from relay_gateway.domain.config_documents import (
    UnknownSecretError,
    carry_secrets,
    has_secrets,
    redact,
)


def _config(credentials: dict[str, Any] | None) -> dict[str, Any]:
    amazon: dict[str, Any] = {"dry_run": False}
    if credentials is not None:
        amazon["credentials"] = credentials
    return {"tenant_id": "t1", "channels": {"amazon": amazon, "woot": {}}}


def test_credentials_are_shown_as_stars_and_nothing_else_changes() -> None:
    config = _config({"refresh_token": "rt-secret", "lwa_client_secret": None})

    shown = redact(config)

    assert shown == {
        "tenant_id": "t1",
        "channels": {
            "amazon": {
                "dry_run": False,
                "credentials": {"refresh_token": "***", "lwa_client_secret": None},
            },
            "woot": {},
        },
    }
    assert config["channels"]["amazon"]["credentials"]["refresh_token"] == "rt-secret"


def test_a_config_put_back_as_shown_keeps_the_earlier_sealed_credentials() -> None:
    previous = _config({"refresh_token": "sealed:v1:AAA", "lwa_client_id": "sealed:v1:BBB"})
    edited = _config({"refresh_token": "***", "lwa_client_id": "new-id"})

    carried = carry_secrets(edited, previous)

    assert carried["channels"]["amazon"]["credentials"] == {
        "refresh_token": "sealed:v1:AAA",
        "lwa_client_id": "new-id",
    }


def test_stars_that_no_earlier_version_holds_name_the_path() -> None:
    with pytest.raises(UnknownSecretError) as raised:
        carry_secrets(_config({"refresh_token": "***"}), _config(None))

    assert raised.value.path == "channels.amazon.credentials.refresh_token"


def test_credentials_count_as_secrets() -> None:
    assert has_secrets(_config({"refresh_token": "rt"}))
    assert not has_secrets(_config({"refresh_token": None}))
    assert not has_secrets(_config(None))
