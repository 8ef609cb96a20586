"""The one rule for a ShipStation ``resource_url``: the gateway checks it before accepting a
notification, and ingest checks it again before sending the tenant's API credentials there."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


class ResourceUrlRefusedError(ValueError):
    """A resource_url Relay will not fetch (nor send credentials to)."""


def check_resource_url(url: str, host_pattern: str, *, allow_http: bool) -> None:
    """https (http only when allowed), no userinfo, a host matching the allow-list."""
    parts = urlsplit(url)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes:
        raise ResourceUrlRefusedError(f"resource_url must use {' or '.join(sorted(schemes))}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ResourceUrlRefusedError("resource_url must not carry credentials")
    host = parts.hostname or ""
    if not host or re.search(host_pattern, host) is None:
        raise ResourceUrlRefusedError(f"resource_url host {host!r} is not allowed")
