"""The embedded Postgres: initdb + postgres from the binaries ``pgserver`` ships.

Only the binaries are used; the cluster is created and run here directly (not through
pgserver's Python API) so its port, socket, user and lifetime are ours to control.
"""

from __future__ import annotations

import importlib.util
import re
import signal
import subprocess
from pathlib import Path

import structlog

from relay_cli.stack.child_process import ChildProcess
from relay_cli.stack.errors import BinaryNotFoundError, CommandFailedError
from relay_cli.stack.ports import LOCALHOST
from relay_cli.stack.postgres_account import can_traverse, prepare_owned_dir, socket_dir_for
from relay_cli.stack.server import EmbeddedServer

_log = structlog.get_logger(__name__)

REQUIRED_BINARIES = ("initdb", "postgres", "pg_isready", "psql", "createdb")
SYSTEM_POSTGRES_GLOB = "/usr/lib/postgresql/*/bin"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

# The embedded cluster is for development and tests only: durability is traded for speed.
# With fsync/synchronous_commit/full_page_writes off, a host crash may corrupt it; a
# postgres crash or a fast shutdown does not lose committed data.
_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "64MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


def _bin_dir_candidates() -> list[Path]:
    candidates: list[Path] = []
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    system = sorted(
        Path("/").glob(SYSTEM_POSTGRES_GLOB.lstrip("/")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    return candidates + system


def find_postgres_bin_dir(run_as: str | None = None) -> Path:
    """pgserver's bin dir, else the newest /usr/lib/postgresql/*/bin.

    With ``run_as``, a directory that user cannot reach is skipped.
    """
    candidates = _bin_dir_candidates()
    for bin_dir in candidates:
        if not all((bin_dir / name).is_file() for name in REQUIRED_BINARIES):
            continue
        if run_as is None or can_traverse(bin_dir, run_as):
            return bin_dir
    raise BinaryNotFoundError("postgres binaries", [str(c) for c in candidates])


def _run(argv: list[str], *, user: str | None = None, timeout: float = 60.0) -> str:
    result = subprocess.run(
        argv, capture_output=True, text=True, user=user, cwd="/", timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise CommandFailedError(argv, result.returncode, result.stderr or result.stdout)
    return result.stdout


def _clear_stale_pid_file(data_dir: Path) -> None:
    """Remove postmaster.pid left by a killed server whose pid now belongs to nobody."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return
    try:
        alive_as_postgres = Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        alive_as_postgres = False
    if not alive_as_postgres:
        pid_file.unlink(missing_ok=True)
        _log.info("postgres_stale_pid_file_removed", pid=pid)


class PostgresServer(EmbeddedServer):
    """A Postgres cluster in ``data_dir`` listening on ``host:port`` and a unix socket.

    The first ``start()`` runs initdb; later starts (also from a new process) reuse the
    cluster. ``stop()``/``start()`` keep the port, so clients reconnect to the same URL.
    ``stop()`` is a fast shutdown (SIGINT: roll back open transactions, checkpoint, exit);
    ``kill()`` crashes the postmaster, and the next start runs crash recovery.
    """

    process_name = "postgres"
    log_name = "postgres"
    stop_signal = signal.SIGINT
    stop_grace = 30.0

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        *,
        port: int | None = None,
        host: str = LOCALHOST,
        run_as: str | None = None,
        bin_dir: Path | None = None,
        database: str = "relay",
        superuser: str = "relay",
    ) -> None:
        for identifier in (database, superuser):
            if not _IDENTIFIER.match(identifier):
                raise ValueError(f"not a plain identifier: {identifier!r}")
        super().__init__(log_path, port=port, host=host)
        self.data_dir = data_dir
        self.run_as = run_as
        self.database = database
        self.superuser = superuser
        self.socket_dir = socket_dir_for(data_dir)
        self._bin_dir = bin_dir

    @property
    def url(self) -> str:
        return f"postgresql://{self.superuser}@{self.host}:{self.port}/{self.database}"

    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = find_postgres_bin_dir(self.run_as)
        return self._bin_dir

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def initialize(self) -> None:
        """initdb a new cluster (trust auth, superuser ``relay``) unless one exists."""
        prepare_owned_dir(self.data_dir, self.run_as)
        if self.is_initialized():
            return
        argv = [
            str(self.bin_dir / "initdb"),
            "--pgdata", str(self.data_dir),
            "--username", self.superuser,
            "--auth", "trust",
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
            "--no-instructions",
        ]  # fmt: skip
        _run(argv, user=self.run_as)
        _log.info("postgres_initialized", data_dir=str(self.data_dir))

    def launch(self) -> None:
        """initdb if needed, then start postgres without waiting for it."""
        self.initialize()
        if self.socket_dir != self.data_dir:
            prepare_owned_dir(self.socket_dir, self.run_as)
        _clear_stale_pid_file(self.data_dir)
        settings = {
            **_SERVER_SETTINGS,
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
        }
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        self._process = ChildProcess(
            self.process_name,
            argv,
            self._log_path,
            user=self.run_as,
            death_signal=self.stop_signal,
        )
        self._process.start()

    def _describe(self) -> str:
        return f"Postgres on {self.host}:{self.port}"

    def _ready_fields(self) -> dict[str, str]:
        return {"url": self.url, "data_dir": str(self.data_dir)}

    def _on_ready(self) -> None:
        self._ensure_database()

    def _log_fields(self) -> dict[str, str]:
        return {"url": self.url}

    def _client_args(self, database: str) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.superuser, "-d", database]

    def _answers(self) -> bool:
        """``pg_isready``: the server accepts connections."""
        argv = [str(self.bin_dir / "pg_isready"), "-q", "-t", "1", *self._client_args("postgres")]
        return subprocess.run(argv, check=False, timeout=10).returncode == 0

    def _ensure_database(self) -> None:
        query = f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"
        psql = [str(self.bin_dir / "psql"), "-X", "-tA", *self._client_args("postgres")]
        if _run([*psql, "-c", query]).strip() == "1":
            return
        connection = self._client_args("postgres")[:-2]  # createdb has no -d option
        createdb = [str(self.bin_dir / "createdb"), *connection, "--maintenance-db=postgres"]
        _run([*createdb, self.database])
        _log.info("postgres_database_created", database=self.database)
