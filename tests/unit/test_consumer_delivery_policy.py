"""Every consumer of every service redelivers by the one delivery policy of its ``APP_*``
settings (the gateway's too)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from relay_cli.services import SERVICE_MODULES, SERVICES

DELIVERY_ENV = {
    "APP_ACK_WAIT_S": "17",
    "APP_MAX_DELIVER": "5",
    "APP_RETRY_BASE_DELAY_S": "0.25",
    "APP_RETRY_MAX_DELAY_S": "4",
}


def app_from_env(service: str, environ: dict[str, str]) -> Any:
    """The service's app as ``relay serve`` builds it, from ``environ``'s ``APP_*``."""
    module = importlib.import_module(SERVICE_MODULES[service])
    return module.create_app(module.SETTINGS_TYPE.from_env(environ))


def consumer_configs(broker: Any) -> dict[str, tuple[float | None, int | None]]:
    """Each registered subscriber's durable consumer: ack wait and deliveries."""
    return {
        sub.config.durable_name: (sub.config.ack_wait, sub.config.max_deliver)
        for sub in broker.subscribers
    }


@pytest.mark.parametrize("service", SERVICES)
def test_consumers_take_ack_wait_and_deliveries_from_app_settings(service: str) -> None:
    app = app_from_env(service, DELIVERY_ENV)
    configs = consumer_configs(app.broker)
    assert configs, f"{service} registers no consumer"
    assert set(configs.values()) == {(17.0, 5)}, configs
    assert app.settings.delivery_policy().delay_for(3) == 1.0
    assert app.settings.delivery_policy().delay_for(9) == 4.0


@pytest.mark.parametrize("service", SERVICES)
def test_consumers_default_to_the_one_policy(service: str) -> None:
    app = app_from_env(service, {})
    assert set(consumer_configs(app.broker).values()) == {(10.0, 8)}
