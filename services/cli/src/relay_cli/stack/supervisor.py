"""Keeps ``relay up``'s services running: a service that dies is started again after a
backoff (:mod:`relay_cli.stack.restart_policy`); too many crashes in a window give up.

:meth:`Supervisor.check` is called from the caller's loop (the main thread, where the stop
signals are handled); it never sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import structlog

from relay_cli.log_config import SHOWN
from relay_cli.stack.errors import StackError
from relay_cli.stack.processes import ServiceProcesses
from relay_cli.stack.restart_policy import (
    CrashHistory,
    GiveUp,
    RestartPolicy,
    after_crash,
    describe_exit,
)

_log = structlog.get_logger(__name__)

Clock = Callable[[], float]
Report = Callable[[str], None]


class ServiceGaveUpError(StackError):
    """A service crashed ``max_crashes`` times within the crash window."""

    code = "service_gave_up"

    def __init__(
        self, name: str, crashes: int, window: float, returncode: int, log_path: Path
    ) -> None:
        super().__init__(
            f"{name} died {crashes} times within {window:g}s (last: {describe_exit(returncode)})"
        )
        self.name = name
        self.crashes = crashes
        self.window = window
        self.returncode = returncode
        self.log_path = log_path


class Supervisor:
    """Restarts the crashed services of ``services`` as ``policy`` says; ``report`` gets one
    short human line per crash and per restart."""

    def __init__(
        self,
        services: ServiceProcesses,
        policy: RestartPolicy,
        report: Report,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self._services = services
        self._policy = policy
        self._report = report
        self._clock = clock
        self._histories: dict[str, CrashHistory] = {}
        self._restart_due: dict[str, float] = {}
        self.restarts = 0

    def check(self) -> None:
        """Notice the services that died, restart those whose delay is over.

        Raises :class:`ServiceGaveUpError` when a service used up its crashes."""
        now = self._clock()
        for name, code in self._services.unexpected_exits().items():
            if name not in self._restart_due:
                self._on_crash(name, code, now)
        for name, due in list(self._restart_due.items()):
            if due <= now:
                del self._restart_due[name]
                self._restart(name)

    def _on_crash(self, name: str, code: int, now: float) -> None:
        uptime = self._services.uptime(name, now)
        history = self._histories.get(name, CrashHistory())
        decision = after_crash(self._policy, history, now=now, uptime=uptime)
        self._histories[name] = decision.history
        crashes = len(decision.history.times)
        if isinstance(decision, GiveUp):
            _log.error(
                "service_gave_up", service=name, returncode=code, crashes=crashes,
                window=decision.window, **SHOWN,
            )  # fmt: skip
            raise ServiceGaveUpError(
                name, crashes, decision.window, code, self._services.log_path(name)
            )
        _log.warning(
            "service_died", service=name, returncode=code, uptime=round(uptime, 3),
            crashes=crashes, restart_in=decision.delay, **SHOWN,
        )  # fmt: skip
        self._report(
            f"{name} died ({describe_exit(code)}) after {uptime:.1f}s; restarting in "
            f"{decision.delay:g}s (crash {crashes}; gives up at {self._policy.max_crashes} "
            f"within {self._policy.crash_window:g}s)"
        )
        self._restart_due[name] = now + decision.delay

    def _restart(self, name: str) -> None:
        pid = self._services.start(name)
        self.restarts += 1
        _log.info("service_restarted", service=name, pid=pid)
        self._report(f"{name} restarted (pid {pid})")
