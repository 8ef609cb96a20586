"""The Google client: gspread-asyncio's client manager with bounded retries and a quota limiter.

gspread-asyncio's ``AsyncioGspreadClientManager`` retries a 429, a 5xx or a connection error
forever (sleeping ``gspread_delay`` between tries), which would hang a consumer. Here its call
loop (``_call``, the one every gspread-asyncio method goes through) is replaced: each attempt
of a Sheets call first passes the :class:`~relay_sheets.domain.quota.RequestWindow` limiter
(≤ 60 requests a minute per user, ≤ 300 per project, settings; Drive calls have their own,
larger quotas and skip it), every attempt is bounded by a timeout, and a retryable
failure (429, 5xx, a rate-limit 403, a connection error or timeout) is retried after
``min(2^n + jitter, 64)`` s at most ``max_attempts`` times, a 429 pausing every request.
What is still failing then raises :class:`~relay_shared.errors.TransientError` (the message is
nak'ed with a delay); any other 4xx raises gspread's ``APIError`` at once (mapped to a
permanent error by ``google_api``). Every attempt is counted by API and outcome
(``google_metrics``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import gspread
import requests
import structlog
from google.auth.exceptions import GoogleAuthError
from gspread_asyncio import AsyncioGspreadClientManager

from relay_shared.errors import TransientError
from relay_sheets.adapters.google_metrics import (
    AUTH_ERROR,
    NETWORK_ERROR,
    TIMEOUT,
    GoogleMetrics,
)
from relay_sheets.adapters.google_transport import redirect_session
from relay_sheets.domain.quota import RequestWindow, backoff_delay

log = structlog.get_logger(__name__)

#: gspread HTTP client methods that call Drive, not Sheets: Drive's quotas are separate (and
#: far larger), so they skip the Sheets limiter (still retried a bounded number of times).
DRIVE_METHODS = frozenset({"request", "insert_permission", "list_permissions", "remove_permission"})

SHEETS, DRIVE = "sheets", "drive"

#: 403 reasons that mean "slow down", not "no access".
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class GoogleUnavailableError(TransientError):
    code = "google_unavailable"


class RequestLimiter:
    """The async face of :class:`RequestWindow` (one per process: one service account)."""

    def __init__(self, per_user: int, per_project: int) -> None:
        self.window = RequestWindow((per_user, per_project))
        self.sent = 0
        self.refused = 0  # 429s seen

    async def acquire(self) -> None:
        while True:
            wait = self.window.wait_for(time.monotonic())
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self.sent += 1

    def pause(self, seconds: float) -> None:
        self.refused += 1
        self.window.pause(time.monotonic(), seconds)


def google_reason(exc: gspread.exceptions.APIError) -> str:
    """Google's ``errors[0].reason`` (``notFound``, ``storageQuotaExceeded``...), or ''."""
    errors = exc.error.get("errors") if isinstance(exc.error, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("reason", ""))
    return ""


def is_retryable(exc: gspread.exceptions.APIError) -> bool:
    status = exc.response.status_code
    return (
        status == 429
        or status >= 500
        or (status == 403 and google_reason(exc) in RATE_LIMIT_REASONS)
    )


class BoundedClientManager(AsyncioGspreadClientManager):  # type: ignore[misc]
    """gspread-asyncio's manager whose calls are rate-limited and retried a bounded number
    of times (see the module doc)."""

    def __init__(
        self,
        credentials_fn: Callable[[], Any],
        limiter: RequestLimiter,
        *,
        max_attempts: int,
        call_timeout_s: float,
        api_url: str | None = None,
        metrics: GoogleMetrics | None = None,
    ) -> None:
        super().__init__(credentials_fn, gspread_delay=0.0, gspread_timeout=call_timeout_s)
        self.limiter = limiter
        self.metrics = metrics if metrics is not None else GoogleMetrics()
        self.max_attempts = max_attempts
        self.call_timeout_s = call_timeout_s
        self.api_url = api_url
        self._random = random.Random()

    async def authorize(self) -> Any:
        client = await super().authorize()
        if self.api_url is not None:
            redirect_session(client.gc.http_client.session, self.api_url)
        return client

    async def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("api_call_count", None)
        failure: BaseException | None = None
        name = getattr(method, "__name__", "?")
        api = DRIVE if name in DRIVE_METHODS else SHEETS
        for attempt in range(self.max_attempts):
            if api == SHEETS:
                await self.limiter.acquire()
            try:
                result = await self._attempt(api, method, *args, **kwargs)
            except gspread.exceptions.APIError as exc:
                if not is_retryable(exc):
                    raise
                failure = exc
            except (requests.RequestException, GoogleAuthError, TimeoutError) as exc:
                failure = exc
            else:
                return result
            delay = backoff_delay(attempt, self._random.random())
            if (
                isinstance(failure, gspread.exceptions.APIError)
                and failure.response.status_code == 429
            ):
                self.limiter.pause(delay)
            log.warning(
                "google.retry",
                call=name,
                attempt=attempt + 1,
                delay_s=round(delay, 2),
                error=str(failure)[:300],
            )
            if attempt + 1 < self.max_attempts:
                await asyncio.sleep(delay)
        self.metrics.gave_up(api)
        raise GoogleUnavailableError(
            f"Google kept failing after {self.max_attempts} attempts: {str(failure)[:300]}",
            attempts=self.max_attempts,
        )

    async def _attempt(
        self, api: str, method: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        """One attempt, bounded by the call timeout, counted by its outcome."""
        try:
            call = asyncio.to_thread(method, *args, **kwargs)
            result = await asyncio.wait_for(call, self.call_timeout_s + 1.0)
        except gspread.exceptions.APIError as exc:
            reason = google_reason(exc) in RATE_LIMIT_REASONS
            self.metrics.answered(api, exc.response.status_code, reason)
            raise
        except (TimeoutError, requests.Timeout):
            self.metrics.failed(api, TIMEOUT)
            raise
        except requests.RequestException:
            self.metrics.failed(api, NETWORK_ERROR)
            raise
        except GoogleAuthError:
            self.metrics.failed(api, AUTH_ERROR)
            raise
        self.metrics.answered(api, 200)
        return result

    async def handle_gspread_error(self, e: Exception, method: Any, args: Any, kwargs: Any) -> None:
        raise e  # never reached (``_call`` is replaced); never retry forever

    async def handle_requests_error(
        self, e: Exception, method: Any, args: Any, kwargs: Any
    ) -> None:
        raise e
