"""Pointing the real Google clients at another server (a local fake, for tests and the demo).

gspread copies its API URLs (``https://sheets.googleapis.com/v4/...``,
``https://www.googleapis.com/drive/v3/...``) into several modules at import time, so no
setting moves them. Instead a ``requests`` transport adapter is mounted on the client's HTTP
session: it rewrites the scheme and host of every request to a Google API host to the given
base URL and keeps the path and query. The token endpoint needs no rewrite: it is the
service account's ``token_uri``.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

GOOGLE_API_HOSTS = frozenset(
    {"sheets.googleapis.com", "www.googleapis.com", "oauth2.googleapis.com"}
)


class HostRewritingAdapter(HTTPAdapter):
    """Sends requests for Google's API hosts to ``base_url`` (e.g. ``http://127.0.0.1:8765``)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) base URL: {base_url!r}")
        self._scheme = parts.scheme
        self._netloc = parts.netloc

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname in GOOGLE_API_HOSTS:
            request.url = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, ""))
            proxies = {}  # the rewritten host is reached directly
        return super().send(request, stream, timeout, verify, cert, proxies)


def redirect_session(session: requests.Session, base_url: str) -> None:
    """Mount the rewriting adapter for every ``https://`` request of ``session``."""
    session.mount("https://", HostRewritingAdapter(base_url))
