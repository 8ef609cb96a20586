"""The environment each service process gets from ``relay up``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from relay_cli.services import HTTP_SERVICE, SERVICES
from relay_cli.stack.endpoints import ENV_HTTP_PORT, ENV_STATE_DIR, StackEndpoints

DEFAULT_HTTP_PORT = 8080
ENV_METRICS_PORT = "APP_METRICS_PORT"


def service_env(
    name: str,
    endpoints: StackEndpoints,
    *,
    state_dir: Path,
    parent_env: Mapping[str, str],
    http_port: int = DEFAULT_HTTP_PORT,
) -> dict[str, str]:
    """The parent's environment (so every other ``APP_*`` passes through) overlaid with
    the stack endpoints, ``APP_STATE_DIR`` and, for the gateway only, ``APP_HTTP_PORT``.
    A worker's ``APP_METRICS_PORT`` (when the parent sets one) is that port plus the worker's
    place in :data:`SERVICES`, so the workers of one host do not share a port; the gateway
    serves its metrics and probes on its HTTP port."""
    env = dict(parent_env)
    env.update(endpoints.as_env())
    env[ENV_STATE_DIR] = str(state_dir)
    if name == HTTP_SERVICE:
        env[ENV_HTTP_PORT] = str(http_port)
        env.pop(ENV_METRICS_PORT, None)
    else:
        env.pop(ENV_HTTP_PORT, None)  # one port, one listener
        base = env.get(ENV_METRICS_PORT, "")
        if base.isdigit() and int(base) and name in SERVICES:
            env[ENV_METRICS_PORT] = str(int(base) + SERVICES.index(name))
    return env
