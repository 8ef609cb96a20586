"""One marketplace HTTP call, bounded and classified (the ack discipline's view of it).

- 2xx with a JSON body (or none) → :class:`Answer`;
- 429 → wait ``Retry-After`` (or one ``x-amzn-RateLimit-Limit`` interval) and try again while
  that stays under ``max_retry_wait_s`` in total, then :class:`~relay_shared.errors.
  TransientError` (the message is nak'ed with a delay); 5xx and connection failures →
  TransientError;
- other 4xx → :class:`MarketplaceRejectedError` (audited ``failed``, never retried);
- no complete answer within ``timeout_s``, or an answer that is not HTTP/JSON (garbage) →
  :class:`MarketplaceTimeoutError` (audited ``timed_out``; the next action goes on).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from relay_channels.adapters.call_metrics import CallOutcome, Observe
from relay_shared.errors import TransientError

ANSWER_CHARS = 2000


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    body: Any


class MarketplaceRejectedError(Exception):
    """The marketplace refused the request (4xx other than 429, or an invalid submission)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text[:200]}")
        self.status = status
        self.text = text


class MarketplaceTimeoutError(Exception):
    """No usable answer in time: the marketplace hung or answered garbage."""


@dataclass(frozen=True)
class CallLimits:
    timeout_s: float
    max_retry_wait_s: float


def answer_text(text: str) -> str:
    return text[:ANSWER_CHARS]


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    limits: CallLimits,
    *,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
    observe: Observe | None = None,
    pace: Callable[[], Awaitable[None]] | None = None,
) -> Answer:
    """Send, honouring 429s within the wait budget; classified as described above. Each
    exchange's outcome is reported to ``observe``; ``pace`` (a rate limit) is awaited before
    each attempt, a retry after a 429 included."""
    report: Observe = observe if observe is not None else _ignore
    waited = 0.0
    while True:
        if pace is not None:
            await pace()
        started = time.monotonic()
        try:
            async with asyncio.timeout(limits.timeout_s):
                async with session.request(
                    method, url, headers=headers, json=json_body, data=form
                ) as response:
                    text = await response.text()
                    status, retry_after = response.status, _retry_after(response.headers)
        except TimeoutError as exc:
            report("timed_out")
            raise MarketplaceTimeoutError(f"no answer within {limits.timeout_s}s") from exc
        except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            report("timed_out")
            raise MarketplaceTimeoutError(f"the answer is not HTTP: {exc}") from exc
        except aiohttp.ClientError as exc:
            report("unreachable")
            raise TransientError(
                f"{method} {url}: {exc!r}", code="marketplace_unreachable"
            ) from exc
        report(_outcome(status, text))
        if status == 429:
            pause = retry_after if retry_after is not None else 1.0
            elapsed = time.monotonic() - started
            if waited + pause > limits.max_retry_wait_s:
                raise TransientError(
                    f"{method} {url}: 429 {answer_text(text)}", code="marketplace_throttled"
                )
            waited += pause + elapsed
            await asyncio.sleep(pause)
            continue
        return _classified(status, text)


def _ignore(_outcome: CallOutcome) -> None:
    return None


def _outcome(status: int, text: str) -> CallOutcome:
    if status == 429:
        return "throttled"
    if status >= 500:
        return "unavailable"
    if status >= 400:
        return "rejected"
    if text.strip():
        try:
            json.loads(text)
        except ValueError:
            return "timed_out"  # garbage: audited as a timeout
    return "ok"


def _classified(status: int, text: str) -> Answer:
    if status >= 500:
        raise TransientError(f"{status}: {answer_text(text)}", code="marketplace_unavailable")
    if status >= 400:
        raise MarketplaceRejectedError(status, answer_text(text))
    if not text.strip():
        return Answer(status, "", None)
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise MarketplaceTimeoutError(f"garbage answer ({status}): {text[:200]!r}") from exc
    return Answer(status, answer_text(text), body)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            return None
    limit = headers.get("x-amzn-RateLimit-Limit")
    if limit is not None:
        try:
            rate = float(limit)
        except ValueError:
            return None
        return 1.0 / rate if rate > 0 else None
    return None
