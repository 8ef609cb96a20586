"""HTTPS pulls: a conditional GET of the vendor's URL, its body streamed into the bucket.

- ``If-None-Match`` / ``If-Modified-Since`` from the last good pull; a 304 is no new feed.
- Redirects are followed by hand (at most :data:`MAX_REDIRECTS`, https only). Addresses are
  checked where the connection is made (a resolver that refuses, and a check of IP
  literals), so DNS cannot swap them after the check: a private, loopback or link-local
  address is refused (``private_address``, permanent) unless ``allow_private`` is on and the
  host is the configured URL's own host; a redirect to another host never reaches a private
  address. Credentials are not sent to a host other than the configured one.
- The body is streamed to the bucket and refused past ``max_bytes`` (``too_large``); a
  ``Content-Length`` over it is refused before any byte is read.
"""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from relay_ingest.adapters.pull_sink import PullSink, TooLargeError
from relay_ingest.domain.pulls import (
    Fetched,
    PullFailure,
    PullRequest,
    PullResult,
    Validators,
    conditional_headers,
    is_ip_literal,
    is_public_address,
    is_transient_status,
    pulled_key,
)
from relay_shared.tenant_config import HttpsAuth

MAX_REDIRECTS = 5
CHUNK = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _GuardedResolver(AbstractResolver):
    """Resolves like aiohttp does, then refuses non-public addresses of any host but
    ``trusted`` (the configured host, when private addresses are allowed)."""

    def __init__(self, trusted: str | None) -> None:
        self._inner = DefaultResolver()
        self._trusted = trusted

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if host != self._trusted and not all(is_public_address(r["host"]) for r in found):
            raise _private(host)
        return found

    async def close(self) -> None:
        await self._inner.close()


def _private(host: str) -> PullFailure:
    return PullFailure(
        "private_address", f"{host[:100]} is a private or loopback address", transient=False
    )


@dataclass(frozen=True)
class HttpsSource:
    """Pulls over HTTPS (``ssl_context`` trusts the system CAs plus ``APP_PULL_CA_FILE``)."""

    sink: PullSink
    ssl_context: ssl.SSLContext
    allow_private: bool
    timeout_s: float
    max_bytes: int

    async def pull(self, request: PullRequest) -> PullResult:
        inbound, validators = request.inbound, request.validators
        if inbound.url is None:  # refused at config time; an old stored config still ends here
            raise PullFailure("invalid_config", "an https inbound needs a url", transient=False)
        origin = urlsplit(inbound.url).hostname
        trusted = origin if self.allow_private else None
        connector = aiohttp.TCPConnector(
            ssl=self.ssl_context, resolver=_GuardedResolver(trusted), use_dns_cache=False
        )
        timeout = aiohttp.ClientTimeout(total=self.timeout_s, sock_connect=30)
        headers = {
            **conditional_headers(validators),
            **_auth_headers(inbound.auth, request.secrets),
        }
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                response = await _follow(session, inbound.url, headers, trusted)
                async with response:
                    return await self._read(
                        response, validators, request.owner, request.now, request.pull_id
                    )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise PullFailure("unreachable", repr(exc)[:300], transient=True) from exc

    async def _read(
        self,
        response: aiohttp.ClientResponse,
        validators: Validators,
        owner: tuple[str, str],
        now: datetime,
        pull_id: str,
    ) -> PullResult:
        if response.status == 304:
            return PullResult([], _validators(response, keep_from=validators))
        if response.status != 200:
            raise PullFailure(
                f"http_{response.status}",
                f"the vendor answered {response.status} {response.reason or ''}".strip(),
                transient=is_transient_status(response.status),
            )
        if response.content_length is not None and response.content_length > self.max_bytes:
            raise _too_large(self.max_bytes)
        name = urlsplit(str(response.url)).path.rsplit("/", 1)[-1]
        key = pulled_key(*owner, now, pull_id, name)
        try:
            stored = await self.sink.put(
                key, _chunks(response), response.content_type, self.max_bytes
            )
        except TooLargeError as exc:
            raise _too_large(self.max_bytes) from exc
        fetched = Fetched(key, stored.etag, stored.size, now, name)
        return PullResult([fetched], _validators(response, keep_from=None))


async def _follow(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], trusted: str | None
) -> aiohttp.ClientResponse:
    """The first answer that is no redirect (credentials only ever go to the first host)."""
    origin = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        host = urlsplit(url).hostname or ""
        if is_ip_literal(host) and host != trusted and not is_public_address(host.strip("[]")):
            raise _private(host)
        sent = headers if host == origin else _without_auth(headers)
        response = await session.get(url, headers=sent, allow_redirects=False)
        if response.status not in _REDIRECTS:
            return response
        location = response.headers.get("Location", "")
        response.release()
        url = urljoin(url, location)
        if urlsplit(url).scheme != "https":
            raise PullFailure("insecure_redirect", "a redirect left https", transient=False)
    raise PullFailure("too_many_redirects", f"more than {MAX_REDIRECTS} redirects", transient=False)


def _without_auth(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("If-")}


def _auth_headers(auth: HttpsAuth | None, secrets: dict[str, str]) -> dict[str, str]:
    if auth is None:
        return {}
    if auth.type == "basic":
        pair = f"{auth.username or ''}:{secrets.get('auth.password', '')}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}  # RFC 7617
    if auth.type == "bearer":
        return {"Authorization": f"Bearer {secrets.get('auth.token', '')}"}
    return {auth.name or "": secrets.get("auth.value", "")}


def _validators(response: aiohttp.ClientResponse, keep_from: Validators | None) -> Validators:
    etag = response.headers.get("ETag")
    modified = response.headers.get("Last-Modified")
    if keep_from is not None:
        etag, modified = etag or keep_from.etag, modified or keep_from.last_modified
    return Validators(etag=etag, last_modified=modified)


def _too_large(max_bytes: int) -> PullFailure:
    return PullFailure("too_large", f"the feed is larger than {max_bytes} bytes", transient=False)


async def _chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in response.content.iter_chunked(CHUNK):
        yield chunk


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """The system's trust store, plus ``ca_file`` when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context
