"""On a real NATS server, every durable consumer of every service (the gateway's too) has the
ack wait and deliveries of its ``APP_*`` settings: one delivery policy, one source."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from relay_cli.services import SERVICE_MODULES, SERVICES
from relay_cli.stack import StackEndpoints
from relay_shared.bus import ensure_streams
from relay_shared.runtime import stream_settings
from tests.support.jetstream import delete_streams, nats_client

pytestmark = pytest.mark.stack


def app_from_env(service: str, environ: dict[str, str]) -> Any:
    """The service's app as ``relay serve`` builds it, from ``environ``'s ``APP_*``."""
    module = importlib.import_module(SERVICE_MODULES[service])
    return module.create_app(module.SETTINGS_TYPE.from_env(environ))


async def test_every_durable_consumer_has_the_policy_of_app_settings(
    isolated_bus: StackEndpoints, unique_id: str
) -> None:
    stream = f"REL_DELIVERY_{unique_id}"
    environ = {
        **isolated_bus.as_env(),
        "APP_NATS_STREAM": stream,
        "APP_ACK_WAIT_S": "17",
        "APP_MAX_DELIVER": "5",
    }
    apps = [app_from_env(service, environ) for service in SERVICES]
    declared = {sub.config.durable_name for app in apps for sub in app.broker.subscribers}
    async with nats_client(isolated_bus.nats_url) as client:
        js = client.jetstream()
        await ensure_streams(js, stream_settings(apps[0].settings))
        try:
            # Starting a broker declares its durable consumers; the stream is empty, so no
            # handler runs (none is wired).
            for app in apps:
                await app.broker.start()
            consumers = {info.name: info.config for info in await js.consumers_info(stream)}
        finally:
            for app in apps:
                await app.broker.stop()
            await delete_streams(client, stream)

    assert set(consumers) == declared
    assert {name.split("-")[0] for name in consumers} == set(SERVICES)
    assert {(c.ack_wait, c.max_deliver) for c in consumers.values()} == {(17, 5)}
