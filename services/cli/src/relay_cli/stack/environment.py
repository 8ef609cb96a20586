"""The environment each service process gets from ``relay up``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from relay_cli.services import HTTP_SERVICE
from relay_cli.stack.endpoints import ENV_HTTP_PORT, ENV_STATE_DIR, StackEndpoints

DEFAULT_HTTP_PORT = 8080


def service_env(
    name: str,
    endpoints: StackEndpoints,
    *,
    state_dir: Path,
    parent_env: Mapping[str, str],
    http_port: int = DEFAULT_HTTP_PORT,
) -> dict[str, str]:
    """The parent's environment (so every other ``APP_*`` passes through) overlaid with
    the stack endpoints, ``APP_STATE_DIR`` and, for the gateway only, ``APP_HTTP_PORT``."""
    env = dict(parent_env)
    env.update(endpoints.as_env())
    env[ENV_STATE_DIR] = str(state_dir)
    if name == HTTP_SERVICE:
        env[ENV_HTTP_PORT] = str(http_port)
    else:
        env.pop(ENV_HTTP_PORT, None)  # one port, one listener
    return env
