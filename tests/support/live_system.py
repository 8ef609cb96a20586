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

#: ShipStation hosts a test's local fake listens on (gateway and ingest take http there)
LOCAL_SHIPSTATION_HOSTS = r"^127\.0\.0\.1$"


@dataclass(frozen=True)
class LiveSystem:
    gateway_url: str
    endpoints: StackEndpoints
    state_dir: Path
    admin_key: str
    webhook_secret: str
    services: ServiceProcesses

    @property
    def sheets_dir(self) -> Path:
        """Where the sheets service's xlsx backend keeps the tenants' folders."""
        return self.state_dir / "sheets"


def travelling_env(
    clock_file: Path, marketplaces: Mapping[str, str], *, tick_s: float = 0.2
) -> dict[str, str]:
    """``extra_env`` for a system whose time a test moves and whose outside world is local
    fakes: insights' scheduler reads its clock from ``clock_file`` (an offset in seconds,
    ``APP_CLOCK_OFFSET_FILE``) every ``tick_s``; channels calls the fake marketplaces
    (``marketplaces``: their ``APP_CHANNELS_*_ENDPOINT`` variables); gateway and ingest take
    a ShipStation ``resource_url`` on 127.0.0.1 over http; outboxes drain every 0.2 s."""
    return {
        "APP_CLOCK_OFFSET_FILE": str(clock_file),
        "APP_EVALUATE_TICK_S": str(tick_s),
        "APP_OUTBOX_INTERVAL_S": "0.2",
        "APP_SHIPSTATION_HOSTS": LOCAL_SHIPSTATION_HOSTS,
        "APP_SHIPSTATION_ALLOW_HTTP": "true",
        **marketplaces,
    }


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
