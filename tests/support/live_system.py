"""Every service as its own process (``relay serve``) on the real stack, behind the gateway:
the system as an operator runs it, for the end-to-end and security suites."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from relay_cli.stack import ServiceProcesses, StackEndpoints, free_port, wait_for_http_ok


@dataclass(frozen=True)
class LiveSystem:
    gateway_url: str
    endpoints: StackEndpoints
    state_dir: Path
    admin_key: str
    webhook_secret: str
    services: ServiceProcesses


@contextmanager
def live_system_on(
    endpoints: StackEndpoints, state_dir: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[LiveSystem]:
    """Start every service against ``endpoints``; stop them on exit, failing when one of
    them exited on its own meanwhile."""
    admin_key = "rk_live_admin_" + secrets.token_hex(8)
    webhook_secret = secrets.token_hex(16)
    env = {
        **os.environ,
        "APP_BOOTSTRAP_ADMIN_KEY": admin_key,
        "APP_SECRET_KEY": secrets.token_hex(32),
        "APP_WEBHOOK_SECRETS": f"old-rotated-secret,{webhook_secret}",
        **(extra_env or {}),
    }
    port = free_port()
    with ServiceProcesses.for_stack(
        endpoints, state_dir, http_port=port, parent_env=env
    ) as services:
        services.start_all()
        url = f"http://127.0.0.1:{port}"
        wait_for_http_ok(f"{url}/v1/ready", timeout=90.0)
        yield LiveSystem(url, endpoints, state_dir, admin_key, webhook_secret, services)
        assert services.unexpected_exits() == {}
