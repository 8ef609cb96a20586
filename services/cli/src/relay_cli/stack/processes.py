"""The service processes (``relay serve <name>``), each its own OS process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import structlog

from relay_cli.services import SERVICES
from relay_cli.stack.child_process import ChildProcess
from relay_cli.stack.endpoints import StackEndpoints
from relay_cli.stack.environment import DEFAULT_HTTP_PORT, service_env
from relay_cli.stack.lifetime import HeldByBlock

_log = structlog.get_logger(__name__)

ServiceCommand = Callable[[str], Sequence[str]]
EnvFactory = Callable[[str], Mapping[str, str]]

DEFAULT_STOP_GRACE = 10.0


def serve_command(name: str) -> list[str]:
    """``relay serve <name>`` with this interpreter."""
    return [sys.executable, "-m", "relay_cli", "serve", name]


class ServiceProcesses(HeldByBlock):
    """Start, stop, kill and restart named service processes.

    A process that exits without ``stop``/``kill`` being asked for is reported by
    :meth:`unexpected_exits`. Logs go to ``<log_dir>/<name>.log`` (appended across restarts).
    """

    def __init__(
        self,
        env_for: EnvFactory,
        log_dir: Path,
        *,
        command: ServiceCommand = serve_command,
        stop_grace: float = DEFAULT_STOP_GRACE,
    ) -> None:
        self._env_for = env_for
        self.log_dir = log_dir
        self._command = command
        self.stop_grace = stop_grace
        self._processes: dict[str, ChildProcess] = {}
        self._expected_exit: set[str] = set()
        self._started_at: dict[str, float] = {}

    @classmethod
    def for_stack(
        cls,
        endpoints: StackEndpoints,
        state_dir: Path,
        *,
        http_port: int = DEFAULT_HTTP_PORT,
        parent_env: Mapping[str, str] = os.environ,
        command: ServiceCommand = serve_command,
        stop_grace: float = DEFAULT_STOP_GRACE,
    ) -> ServiceProcesses:
        """Processes wired to ``endpoints``, logging under ``<state_dir>/logs``."""
        parent = dict(parent_env)

        def env_for(name: str) -> Mapping[str, str]:
            return service_env(
                name, endpoints, state_dir=state_dir, parent_env=parent, http_port=http_port
            )

        return cls(env_for, state_dir / "logs", command=command, stop_grace=stop_grace)

    @property
    def names(self) -> list[str]:
        return list(self._processes)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str) -> int:
        """Start ``name`` (again); returns its pid."""
        process = ChildProcess(
            name, self._command(name), self.log_path(name), env=self._env_for(name)
        )
        process.start()
        self._started_at[name] = time.monotonic()
        self._processes[name] = process
        self._expected_exit.discard(name)
        _log.info("service_started", service=name, pid=process.pid)
        return self.pid(name)

    def start_all(self, names: Iterable[str] = SERVICES) -> None:
        for name in names:
            self.start(name)

    def pid(self, name: str) -> int:
        pid = self._get(name).pid
        if pid is None:
            raise RuntimeError(f"{name} was never started")
        return pid

    def uptime(self, name: str, now: float | None = None) -> float:
        """Seconds since ``name`` was last started (``now``: a ``time.monotonic()`` value)."""
        self._get(name)
        return (time.monotonic() if now is None else now) - self._started_at[name]

    def is_running(self, name: str) -> bool:
        return name in self._processes and self._processes[name].is_running()

    def stop(self, name: str, grace: float | None = None) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds. Returns the exit code."""
        self._expected_exit.add(name)
        code = self._get(name).stop(signal.SIGTERM, self._grace(grace))
        _log.info("service_stopped", service=name, returncode=code)
        return code

    def kill(self, name: str) -> int | None:
        """SIGKILL (a crash, as far as the service is concerned) and reap."""
        self._expected_exit.add(name)
        code = self._get(name).kill()
        _log.info("service_killed", service=name, returncode=code)
        return code

    def restart(self, name: str, grace: float | None = None) -> int:
        """Stop (gracefully) and start again; returns the new pid."""
        self.stop(name, grace)
        return self.start(name)

    def wait(self, name: str, timeout: float) -> int:
        """Wait for ``name`` to exit by itself; ``subprocess.TimeoutExpired`` after timeout."""
        return self._get(name).wait(timeout)

    def unexpected_exits(self) -> dict[str, int]:
        """Services that exited although nobody stopped or killed them: name -> exit code."""
        exits: dict[str, int] = {}
        for name, process in self._processes.items():
            code = process.poll()
            if code is not None and name not in self._expected_exit:
                exits[name] = code
        return exits

    def log_tail(self, name: str) -> str:
        return self._get(name).log_tail()

    def stop_all(self, grace: float | None = None) -> dict[str, int]:
        """SIGTERM every running service at once, SIGKILL those still up after ``grace``."""
        self._expected_exit.update(self._processes)
        running = {n: p for n, p in self._processes.items() if p.is_running()}
        for process in running.values():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._grace(grace)
        codes: dict[str, int] = {}
        for name, process in running.items():
            try:
                codes[name] = process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _log.warning("service_kill_after_grace", service=name)
                codes[name] = process.reap(0.0)
        if codes:
            _log.info("services_stopped", returncodes=codes)
        return codes

    def _on_exit(self) -> dict[str, int]:
        return self.stop_all()

    def _grace(self, grace: float | None) -> float:
        return self.stop_grace if grace is None else grace

    def _get(self, name: str) -> ChildProcess:
        try:
            return self._processes[name]
        except KeyError:
            raise KeyError(f"no service process named {name!r}") from None
