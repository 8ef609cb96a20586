"""Polling with a deadline: the only way the stack waits for anything."""

from __future__ import annotations

import time
from collections.abc import Callable

from relay_cli.stack.errors import ReadinessTimeoutError

#: Pause between two probes. Probes are cheap; this only keeps the loop from spinning.
POLL_INTERVAL = 0.02


def wait_until(
    probe: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    alive: Callable[[], None] | None = None,
    interval: float = POLL_INTERVAL,
) -> float:
    """Call ``probe`` until it returns True; return the seconds it took.

    ``alive`` is called before every probe and should raise when the thing being waited
    for cannot become ready any more (e.g. its process exited).
    Raises :class:`ReadinessTimeoutError` when ``timeout`` seconds pass first.
    """
    started = time.monotonic()
    deadline = started + timeout
    while True:
        if alive is not None:
            alive()
        if probe():
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            raise ReadinessTimeoutError(what, timeout)
        time.sleep(interval)
