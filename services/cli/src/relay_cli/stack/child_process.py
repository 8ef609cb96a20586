"""One managed child process: started in its own session, logging to a file.

Children get their own session so a Ctrl-C in the terminal reaches only ``relay up``,
which then stops them in order. On Linux they also get a parent-death signal, so they do
not outlive a ``relay up`` (or test run) that is killed with SIGKILL.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import structlog

from relay_cli.stack.errors import ProcessExitedError

_log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1
_TAIL_BYTES = 4096


def _die_with_parent(sig: int, parent_pid: int) -> None:
    """Runs in the child between fork and exec (after any uid switch)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os.kill(os.getpid(), sig)


class ChildProcess:
    """A named subprocess with stdout/stderr appended to ``log_path``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        death_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self.death_signal = death_signal
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self) -> None:
        """Start the process; it must not be running already."""
        if self.is_running():
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                user=self.user,
                group=self._group(),
                extra_groups=[] if self.user is not None else None,
                start_new_session=True,
                preexec_fn=self._preexec(),
            )
        _log.debug("process_started", process=self.name, pid=self._popen.pid, argv=self.argv)

    def _group(self) -> int | None:
        if self.user is None:
            return None
        return pwd.getpwnam(self.user).pw_gid

    def _preexec(self) -> partial[None] | None:
        # The parent-death signal fires when the *thread* that forked exits, so only the
        # main thread (which lives as long as the process) may arm it.
        if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
            return None
        return partial(_die_with_parent, int(self.death_signal), os.getpid())

    def poll(self) -> int | None:
        """The exit code, or None while it runs (or was never started)."""
        return self._popen.poll() if self._popen is not None else None

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def check_alive(self) -> None:
        """Raise :class:`ProcessExitedError` if the process has exited."""
        code = self.poll()
        if code is not None:
            raise ProcessExitedError(self.name, code, self.log_tail())

    def send_signal(self, sig: signal.Signals) -> None:
        if self.is_running() and self._popen is not None:
            self._popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """Wait for exit; raises ``subprocess.TimeoutExpired`` after ``timeout``."""
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._popen.wait(timeout=timeout)

    def stop(self, sig: signal.Signals = signal.SIGTERM, grace: float = 10.0) -> int | None:
        """Send ``sig``, wait up to ``grace`` seconds, then SIGKILL. Returns the exit code."""
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            self._popen.send_signal(sig)
        return self.reap(grace)

    def reap(self, grace: float) -> int:
        """Wait up to ``grace`` for an exit already requested; SIGKILL if it does not come."""
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        try:
            code = self._popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _log.warning("process_kill_after_grace", process=self.name, grace=grace)
            self._popen.kill()
            code = self._popen.wait()
        _log.debug("process_exited", process=self.name, returncode=code)
        return code

    def kill(self) -> int | None:
        """SIGKILL the process and reap it."""
        return self.stop(signal.SIGKILL, grace=30.0)

    def log_tail(self, max_bytes: int = _TAIL_BYTES) -> str:
        """The end of what this run (since the last start) wrote to its log."""
        try:
            with self.log_path.open("rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(self._log_offset, size - max_bytes))
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
