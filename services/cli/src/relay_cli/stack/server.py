"""What the embedded stack's servers (NATS, Postgres, moto) share: each is one child process,
launched, awaited until it answers, stopped cleanly by its own signal (SIGKILL after a grace),
killed as a crash would, and restarted in place (same port, same data)."""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import structlog

from relay_cli.stack.child_process import ChildProcess
from relay_cli.stack.ports import free_port
from relay_cli.stack.readiness import wait_until

_log = structlog.get_logger(__name__)


class EmbeddedServer(ABC):
    """A server on ``host:port`` (a free port unless given) logging to ``log_path``."""

    #: What the child process is called, and what its log lines start with.
    process_name: ClassVar[str]
    log_name: ClassVar[str]
    #: The signal of a clean stop, and how long that stop may take before SIGKILL.
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    stop_grace: ClassVar[float] = 10.0

    def __init__(self, log_path: Path, *, port: int | None, host: str) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._log_path = log_path
        self._process: ChildProcess | None = None

    @property
    def process(self) -> ChildProcess | None:
        return self._process

    @abstractmethod
    def launch(self) -> None:
        """Start the process without waiting for it to be ready."""

    @abstractmethod
    def _answers(self) -> bool:
        """Whether the server answers (one probe)."""

    @abstractmethod
    def _describe(self) -> str:
        """The server and where it is, for a readiness timeout (``NATS on nats://…``)."""

    @abstractmethod
    def _log_fields(self) -> dict[str, str]:
        """What the log lines say about the server (where it is)."""

    def _ready_fields(self) -> dict[str, str]:
        """What the ready log line says besides the seconds waited."""
        return self._log_fields()

    def _on_ready(self) -> None:
        """What is left to do once the server answers (nothing, unless a subclass says)."""
        return None

    def wait_ready(self, timeout: float) -> float:
        """Poll until the server answers, for at most ``timeout`` seconds and while its
        process lives; returns the seconds waited."""
        process = self._require_process()
        took = wait_until(
            self._answers, what=self._describe(), timeout=timeout, alive=process.check_alive
        )
        self._on_ready()
        _log.info(f"{self.log_name}_ready", **self._ready_fields(), seconds=took)
        return took

    def start(self, timeout: float) -> float:
        self.launch()
        return self.wait_ready(timeout)

    def stop(self, grace: float | None = None) -> None:
        """Stop cleanly (:attr:`stop_signal`), SIGKILL after ``grace`` seconds."""
        if self._process is not None:
            self._process.stop(self.stop_signal, self.stop_grace if grace is None else grace)
            _log.info(f"{self.log_name}_stopped", **self._log_fields())

    def kill(self) -> None:
        """Crash the server (SIGKILL), as a test of recovery would."""
        if self._process is not None:
            self._process.kill()

    def restart(self, timeout: float) -> float:
        """Stop and start again in place (same port, same data)."""
        self.stop()
        return self.start(timeout)

    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running()

    def _require_process(self) -> ChildProcess:
        if self._process is None:
            raise RuntimeError(f"{self.process_name} was not launched")
        return self._process
