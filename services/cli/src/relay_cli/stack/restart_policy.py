"""When a crashed service is started again, and when ``relay up`` gives up on it.

Pure decisions (no clock, no process): the supervisor passes the times in.

* The delay before a restart doubles with each crash in a row: ``initial_delay``, then 2×,
  4×, ... up to ``max_delay``. A service that stayed up ``reset_after`` seconds before it
  crashed starts again from ``initial_delay``.
* ``max_crashes`` crashes within ``crash_window`` seconds make the supervisor give up.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

DEFAULT_INITIAL_DELAY = 1.0
DEFAULT_MAX_DELAY = 30.0
DEFAULT_RESET_AFTER = 60.0
DEFAULT_MAX_CRASHES = 5
DEFAULT_CRASH_WINDOW = 300.0


class InvalidRestartPolicyError(ValueError):
    """A restart setting out of range (a negative delay, no crash allowed...)."""


@dataclass(frozen=True)
class RestartPolicy:
    initial_delay: float = DEFAULT_INITIAL_DELAY
    max_delay: float = DEFAULT_MAX_DELAY
    reset_after: float = DEFAULT_RESET_AFTER
    max_crashes: int = DEFAULT_MAX_CRASHES
    crash_window: float = DEFAULT_CRASH_WINDOW

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < self.initial_delay:
            raise InvalidRestartPolicyError(
                "restart delays must satisfy 0 <= initial delay <= max delay, not "
                f"{self.initial_delay} and {self.max_delay}"
            )
        if self.max_crashes < 1:
            raise InvalidRestartPolicyError(
                f"max crashes must be at least 1, not {self.max_crashes}"
            )
        if self.crash_window <= 0 or self.reset_after < 0:
            raise InvalidRestartPolicyError("the crash window must be > 0 and reset-after >= 0")

    def delay(self, crashes_in_a_row: int) -> float:
        """Seconds to wait before the restart that follows the ``crashes_in_a_row``-th crash."""
        exponent = max(0, crashes_in_a_row - 1)
        if self.initial_delay == 0:
            return 0.0
        return min(self.max_delay, self.initial_delay * 2.0 ** min(exponent, 64))


@dataclass(frozen=True)
class CrashHistory:
    """One service's crashes: their times (monotonic seconds) and how many came in a row."""

    times: tuple[float, ...] = ()
    in_a_row: int = 0


@dataclass(frozen=True)
class Restart:
    delay: float
    history: CrashHistory


@dataclass(frozen=True)
class GiveUp:
    crashes: int
    window: float
    history: CrashHistory = field(default_factory=CrashHistory)


def after_crash(
    policy: RestartPolicy, history: CrashHistory, *, now: float, uptime: float
) -> Restart | GiveUp:
    """What to do about a service that crashed at ``now`` after running ``uptime`` seconds."""
    recent = (*(t for t in history.times if now - t < policy.crash_window), now)
    in_a_row = 1 if uptime >= policy.reset_after else history.in_a_row + 1
    updated = CrashHistory(times=recent, in_a_row=in_a_row)
    if len(recent) >= policy.max_crashes:
        return GiveUp(crashes=len(recent), window=policy.crash_window, history=updated)
    return Restart(delay=policy.delay(in_a_row), history=updated)


def describe_exit(returncode: int) -> str:
    """``exit code 3``, or ``killed by SIGKILL`` for a negative (signal) return code."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
