"""HTTP readiness probe (the gateway's ``GET /v1/health``)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable

from relay_cli.stack.readiness import wait_until


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when ``GET url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return False


def wait_for_http_ok(url: str, *, timeout: float, alive: Callable[[], None] | None = None) -> float:
    """Poll ``url`` until it answers 200; returns the seconds waited."""
    return wait_until(lambda: http_ok(url), what=f"GET {url}", timeout=timeout, alive=alive)
