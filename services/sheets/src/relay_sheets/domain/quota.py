"""Google's request quotas on the client side (pure: time is passed in).

Google allows 60 requests per minute per user and 300 per project (Sheets API), and answers
429 ``RESOURCE_EXHAUSTED`` beyond. :class:`RequestWindow` admits a request only when fewer
than each limit were sent in the last ``window_s`` seconds, and holds every request during a
pause (after a 429). :func:`backoff_delay` is the delay before retry ``n`` (0-based) of a 429
or 5xx: ``min(2^n + jitter, 64)`` seconds, jitter uniform in [0, 1).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

MAX_BACKOFF_S = 64.0


def backoff_delay(attempt: int, jitter: float) -> float:
    """Seconds to wait before retry ``attempt`` (0-based); ``jitter`` in [0, 1)."""
    return min(2.0 ** min(attempt, 10) + jitter, MAX_BACKOFF_S)


@dataclass
class RequestWindow:
    """Sliding-window admission for ``limits`` (each: at most that many per window)."""

    limits: tuple[int, ...]
    window_s: float = 60.0
    sent: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0

    def wait_for(self, now: float) -> float:
        """0 when a request may go at ``now`` (then it is counted); else seconds to wait."""
        while self.sent and now - self.sent[0] >= self.window_s:
            self.sent.popleft()
        if now < self.paused_until:
            return self.paused_until - now
        limit = min(self.limits)
        if len(self.sent) >= limit:
            return self.sent[len(self.sent) - limit] + self.window_s - now
        self.sent.append(now)
        return 0.0

    def pause(self, now: float, seconds: float) -> None:
        """Send nothing for ``seconds`` (Google said 429: everyone backs off)."""
        self.paused_until = max(self.paused_until, now + seconds)

    def most_in_window(self) -> int:
        return len(self.sent)
