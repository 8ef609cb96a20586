"""A typed, thin client of a deployed gateway's REST API (spec: gateway-api.md) for the
operator commands. Every failure is one of two exceptions: :class:`GatewayUnreachableError`
(no answer at the URL) or :class:`GatewayAnswerError` (an error answer, with the spec's error
body parsed: code, message and, for a 422, the problems by path)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from relay_cli.operator.models import (
    ArtifactLink,
    RunPage,
    RunSnapshot,
    documented,
    parse_artifacts,
    parse_run,
    parse_run_page,
)

#: Connecting gives up after this long; an answer may take up to READ_TIMEOUT_S between reads
#: (an upload's answer comes once the file is stored).
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 300.0


class InvalidUrlError(ValueError):
    """The gateway URL is not an http(s) URL with a host."""


class GatewayUnreachableError(ConnectionError):
    """Nothing answered at the gateway URL (refused, unknown host, timed out, cut off)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the gateway at {url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Problem:
    """One entry of a 422's ``details.problems``."""

    path: str
    message: str


@dataclass
class GatewayAnswerError(Exception):
    """The gateway answered with an error status."""

    method: str
    path: str
    status: int
    code: str
    message: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status} {self.code}: {self.message}"

    @property
    def is_auth(self) -> bool:
        return self.status in (401, 403)


@dataclass(frozen=True)
class RunAccepted:
    run_id: str
    status: str
    config_version: int


@dataclass(frozen=True)
class Uploaded:
    key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ConfigDocument:
    config_version: int
    config: dict[str, Any]


def checked_url(url: str) -> str:
    """``url`` without a trailing slash; InvalidUrlError unless it is http(s) with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidUrlError(f"the gateway URL {url!r} is not an http(s) URL with a host")
    return url.rstrip("/")


def error_from(method: str, path: str, status: int, text: str) -> GatewayAnswerError:
    """The error answer parsed (``{"error": {"code", "message", "details"}}``); a body of
    another shape (a proxy's page) is kept as the message, shortened."""
    try:
        error = json.loads(text)["error"]
        problems = [
            Problem(str(p["path"]), str(p["message"]))
            for p in (error.get("details") or {}).get("problems", [])
        ]
        return GatewayAnswerError(
            method, path, status, str(error["code"]), str(error["message"]), problems
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return GatewayAnswerError(
            method, path, status, "unexpected_answer", " ".join(text.split())[:200] or "(empty)"
        )


def unreachable_reason(exc: BaseException) -> str:
    """Why nothing answered, in a few words (``connection refused``, the resolver's
    message, ``no answer within 10s``)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        return cause.strerror or str(cause) or type(cause).__name__
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


def _segment(value: str) -> str:
    return quote(value, safe="")


@asynccontextmanager
async def open_client(base_url: str, api_key: str) -> AsyncIterator[OperatorClient]:
    """A client with its own session (closed on exit)."""
    url = checked_url(base_url)
    timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield OperatorClient(session, url, api_key)


class OperatorClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, api_key: str) -> None:
        self._session = session
        self.base_url = checked_url(base_url)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """The answer's JSON body on a 2xx; GatewayAnswerError or GatewayUnreachableError."""
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                json=json_body,
                data=data,
                params=params,
                headers={**self._headers, **(headers or {})},
            ) as response:
                text = await response.text()
        except (TimeoutError, aiohttp.ClientConnectionError, OSError) as exc:
            raise GatewayUnreachableError(self.base_url, unreachable_reason(exc)) from exc
        if not 200 <= response.status < 300:
            raise error_from(method, path, response.status, text)
        try:
            return json.loads(text) if text else None
        except ValueError as exc:
            raise error_from(method, path, response.status, text) from exc

    async def start_run(
        self,
        tenant_id: str,
        vendors: list[str] | None = None,
        *,
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> RunAccepted:
        body: dict[str, Any] = {"tenant_id": tenant_id, "run_type": "inventory_sync"}
        if vendors:
            body["vendors"] = vendors
        if force:
            body["force"] = True
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        answer = await self._call("POST", "/v1/runs", json_body=body, headers=headers)
        return documented(
            "the accepted run",
            lambda: RunAccepted(
                str(answer["run_id"]), str(answer["status"]), int(answer["config_version"])
            ),
        )

    async def list_runs(
        self,
        tenant_id: str | None = None,
        *,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RunPage:
        given = {"tenant_id": tenant_id, "status": status, "cursor": cursor}
        params = {k: v for k, v in given.items() if v is not None}
        if limit is not None:
            params["limit"] = str(limit)
        return parse_run_page(await self._call("GET", "/v1/runs", params=params))

    async def run_body(self, run_id: str) -> dict[str, Any]:
        """The run resource as the gateway sent it."""
        answer = await self._call("GET", f"/v1/runs/{_segment(run_id)}")
        return documented("the run", lambda: dict(answer))

    async def get_run(self, run_id: str) -> RunSnapshot:
        return parse_run(await self.run_body(run_id))

    async def artifacts(self, run_id: str) -> list[ArtifactLink]:
        return parse_artifacts(await self._call("GET", f"/v1/runs/{_segment(run_id)}/artifacts"))

    async def upload_feed(
        self, tenant_id: str, vendor_id: str, path: Path, content_type: str
    ) -> Uploaded:
        """PUT the file, streamed from disk (aiohttp reads it in chunks; its size is sent
        as Content-Length, so a file over the gateway's limit is refused before it is sent)."""
        url = f"/v1/tenants/{_segment(tenant_id)}/vendors/{_segment(vendor_id)}/feed"
        with path.open("rb") as file:
            answer = await self._call("PUT", url, data=file, headers={"Content-Type": content_type})
        return documented(
            "the upload",
            lambda: Uploaded(str(answer["key"]), str(answer["sha256"]), int(answer["size"])),
        )

    async def push_config(self, tenant_id: str, body: bytes, content_type: str) -> int:
        answer = await self._call(
            "PUT",
            f"/v1/tenants/{_segment(tenant_id)}/config",
            data=body,
            headers={"Content-Type": content_type},
        )
        return documented("the saved config", lambda: int(answer["config_version"]))

    async def get_config(self, tenant_id: str, version: int | None = None) -> ConfigDocument:
        params = {} if version is None else {"version": str(version)}
        answer = await self._call("GET", f"/v1/tenants/{_segment(tenant_id)}/config", params=params)
        return documented(
            "the config",
            lambda: ConfigDocument(int(answer["config_version"]), dict(answer["config"])),
        )
