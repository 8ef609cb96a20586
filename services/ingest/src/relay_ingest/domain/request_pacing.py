"""Pacing requests to ShipStation (pure: the caller passes the clock and does the waiting).

ShipStation V1 allows 40 requests per minute per API key. The pacer keeps a sliding window
of the last minute's requests and, from every answer, the server's own view: with
``X-Rate-Limit-Remaining: 0`` (or a 429) nothing is sent until ``X-Rate-Limit-Reset`` seconds
have passed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

WINDOW_S: Final = 60.0
DEFAULT_RESET_S: Final = 60.0


@dataclass
class RequestPacer:
    per_minute: int = 40
    _sent: deque[float] = field(default_factory=deque)
    _blocked_until: float = 0.0

    def delay(self, now: float) -> float:
        """Seconds to wait before the next request may be sent."""
        while self._sent and self._sent[0] <= now - WINDOW_S:
            self._sent.popleft()
        wait = max(self._blocked_until - now, 0.0)
        if len(self._sent) >= self.per_minute:
            wait = max(wait, self._sent[0] + WINDOW_S - now)
        return wait

    def sent(self, now: float) -> None:
        self._sent.append(now)

    def answered(self, now: float, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer: a 429, or no requests remaining, blocks until the reset."""
        remaining = _number(headers.get("X-Rate-Limit-Remaining"))
        if status == 429 or remaining == 0:
            self._blocked_until = max(self._blocked_until, now + reset_after(headers))


def reset_after(headers: Mapping[str, str]) -> float:
    """``X-Rate-Limit-Reset`` (seconds until the window resets), 60 s when absent."""
    reset = _number(headers.get("X-Rate-Limit-Reset"))
    return DEFAULT_RESET_S if reset is None else max(reset, 0.0)


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None
