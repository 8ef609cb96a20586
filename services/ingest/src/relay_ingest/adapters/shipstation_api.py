"""ShipStation V1 over HTTP (aiohttp): Basic auth, paced per API key, 429s waited out.

Failures are classified for the ack discipline: bad credentials, a missing resource or a
malformed answer are permanent (retrying cannot help); 5xx, timeouts, connection errors and
a 429 that keeps coming are transient (the notification is redelivered later, and the
shipments already emitted are skipped then).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from relay_ingest.domain.request_pacing import RequestPacer, reset_after
from relay_shared.errors import PermanentError, TransientError

log = structlog.get_logger(__name__)
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: str

    @property
    def key_id(self) -> str:
        """A stable, non-secret name of the API key (for pacing and logs)."""
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:12]


class ShipstationApi:
    """GETs JSON from ShipStation within its rate limit (one pacer per API key)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        per_minute: int = 40,
        max_wait_s: float = 120.0,
        max_throttled: int = 5,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self._session = session
        self._per_minute = per_minute
        self._max_wait_s = max_wait_s
        self._max_throttled = max_throttled
        self._sleep = sleep
        self._clock = clock
        self._pacers: dict[str, RequestPacer] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get_json(self, url: str, credentials: Credentials) -> Any:
        key_id = credentials.key_id
        pacer = self._pacers.setdefault(key_id, RequestPacer(self._per_minute))
        lock = self._locks.setdefault(key_id, asyncio.Lock())
        auth = aiohttp.encode_basic_auth(credentials.api_key, credentials.api_secret)
        for _ in range(self._max_throttled + 1):
            async with lock:
                await self._wait(pacer.delay(self._clock()), key_id)
                pacer.sent(self._clock())
                status, headers, body = await self._get(url, auth)
                pacer.answered(self._clock(), status, headers)
            if status != 429:
                return _decoded(status, body)
            log.info("shipstation.throttled", key=key_id, reset_s=reset_after(headers))
        raise TransientError("ShipStation kept answering 429", code="shipstation_throttled")

    async def _wait(self, seconds: float, key_id: str) -> None:
        if seconds <= 0:
            return
        if seconds > self._max_wait_s:
            raise TransientError(
                f"ShipStation asks to wait {seconds:.0f}s", code="shipstation_throttled"
            )
        log.info("shipstation.pacing", key=key_id, wait_s=round(seconds, 3))
        await self._sleep(seconds)

    async def _get(self, url: str, auth: str) -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept": "application/json", "Authorization": auth}
        try:
            async with self._session.get(url, headers=headers, allow_redirects=False) as response:
                return response.status, dict(response.headers), await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(
                f"ShipStation is unreachable: {type(exc).__name__}", code="shipstation_unavailable"
            ) from exc


def _decoded(status: int, body: bytes) -> Any:
    if status in (401, 403):
        raise PermanentError("ShipStation refused the API key", code="shipstation_unauthorized")
    if status >= 500:
        raise TransientError(f"ShipStation answered {status}", code="shipstation_unavailable")
    if status != 200:
        raise PermanentError(f"ShipStation answered {status}", code="shipstation_refused")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(
            "ShipStation's answer is not JSON", code="shipstation_malformed"
        ) from exc
