"""The one rule for a ShipStation ``resource_url``: the gateway checks it before accepting a
notification, and ingest checks it again before sending the tenant's API credentials there.

A URL is taken only when it is plain ASCII (RFC 3986 characters, no whitespace, control
characters or backslashes that parsers disagree about), uses https (http only when allowed,
for local fakes), carries no userinfo, names a host the allow-list matches *whole* with
ASCII-only classes (``\\d`` never matches ``١٢٣``), and names port 443 or no port (a local
fake, only with http allowed, may listen on any port).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final
from urllib.parse import urlsplit

DEFAULT_SHIPSTATION_HOSTS = r"^ssapi\d*\.shipstation\.com$"
"""The V1 API hosts a ``resource_url`` may name (``APP_SHIPSTATION_HOSTS`` replaces it)."""

HTTPS_PORT: Final = 443
_URL_CHARACTERS: Final = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


class ResourceUrlRefusedError(ValueError):
    """A resource_url Relay will not fetch (nor send credentials to)."""


@lru_cache(maxsize=16)
def _host_regex(host_pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(host_pattern, re.ASCII)
    except re.error:
        return None


def host_allowed(host: str, host_pattern: str) -> bool:
    """True when the allow-list ``host_pattern`` matches all of ``host`` (``fullmatch``, so a
    pattern without anchors cannot match a longer host, nor ``$`` a trailing newline) with
    ASCII-only ``\\d``/``\\w`` classes. A host that is not ASCII never matches; a pattern that
    is not a valid regex matches nothing."""
    regex = _host_regex(host_pattern)
    if regex is None or not host or not host.isascii():
        return False
    return regex.fullmatch(host) is not None


def port_allowed(port: int | None, *, allow_http: bool) -> bool:
    """443 or none; any port once http is allowed (local fakes listen on free ports)."""
    return port is None or port == HTTPS_PORT or allow_http


def check_resource_url(url: str, host_pattern: str, *, allow_http: bool) -> None:
    """https (http only when allowed), no userinfo, a host matching the allow-list, port 443
    or none; :class:`ResourceUrlRefusedError` naming the first rule broken otherwise."""
    if _URL_CHARACTERS.fullmatch(url) is None:
        raise ResourceUrlRefusedError("resource_url must be an ASCII URL without spaces")
    parts = urlsplit(url)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes:
        raise ResourceUrlRefusedError(f"resource_url must use {' or '.join(sorted(schemes))}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ResourceUrlRefusedError("resource_url must not carry credentials")
    host = parts.hostname or ""
    if not host_allowed(host, host_pattern):
        raise ResourceUrlRefusedError(f"resource_url host {host[:100]!r} is not allowed")
    try:
        port = parts.port
    except ValueError as exc:
        raise ResourceUrlRefusedError("resource_url has an invalid port") from exc
    if not port_allowed(port, allow_http=allow_http):
        raise ResourceUrlRefusedError(f"resource_url port {port} is not allowed (only 443)")
