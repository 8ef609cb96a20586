"""``relay up``: the embedded stack plus every service as its own process.

Servers given by ``APP_NATS_URL`` / ``APP_DATABASE_URL`` / ``APP_S3_ENDPOINT_URL`` are used
as they are; the others are started under the state folder. The gateway listens on ``--port``
when given, else on ``APP_HTTP_PORT``, else on 8080. Ctrl-C or SIGTERM stops the
services (SIGTERM, then SIGKILL after a grace period), then moto, Postgres and NATS.

A service that dies is started again after a delay that doubles with each crash in a row
(``--restart-delay`` 1 s, up to ``--max-restart-delay`` 30 s; back to the first delay once it
stayed up ``--restart-reset-after`` 60 s); each crash and restart is printed. After
``--max-crashes`` (5) crashes of one service within ``--crash-window`` (300 s) relay up gives
up: it prints one line naming the service and its log, stops everything and exits 1.

The terminal gets short lines (where each server listens, readiness, crashes, restarts); the
services' JSON logs and relay's own (relay.log) stay in the log folder, ``<state-dir>/logs``.
``--json-logs`` writes all those JSON lines to stderr as well. ``--google-fake`` runs the
stack against a local fake of Google Drive/Sheets (``relay_cli.google_fake``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

import structlog

from relay_cli.google_fake import FLAG_HELP, env_with_google_fake
from relay_cli.log_config import SHOWN, add_json_logs_flag, terminal_logging
from relay_cli.services import SERVICES
from relay_cli.stack.embedded import EmbeddedStack
from relay_cli.stack.endpoints import ENV_HTTP_PORT, ENV_STATE_DIR
from relay_cli.stack.environment import DEFAULT_HTTP_PORT
from relay_cli.stack.errors import StackError
from relay_cli.stack.health import wait_for_http_ok
from relay_cli.stack.lifetime import HeldByBlock
from relay_cli.stack.log_follow import followed_if
from relay_cli.stack.ports import LOCALHOST, free_port
from relay_cli.stack.processes import (
    DEFAULT_STOP_GRACE,
    ServiceCommand,
    ServiceProcesses,
    serve_command,
)
from relay_cli.stack.restart_policy import InvalidRestartPolicyError, RestartPolicy
from relay_cli.stack.supervisor import ServiceGaveUpError, Supervisor

_log = structlog.get_logger(__name__)

DEFAULT_STATE_DIR = Path(".relay")
DEFAULT_READY_TIMEOUT = 120.0
#: How often a running stack checks that its services are still alive.
SUPERVISE_INTERVAL = 0.25


@dataclass(frozen=True)
class UpOptions:
    state_dir: Path
    http_port: int = DEFAULT_HTTP_PORT  # 0: pick a free port
    ready_timeout: float = DEFAULT_READY_TIMEOUT
    stop_grace: float = DEFAULT_STOP_GRACE
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    json_logs: bool = False  # the services' and relay's JSON lines on stderr too
    google_fake: bool = False  # the sheets service's Google is the local development fake


class StopRequested(BaseException):
    """Raised by the SIGINT/SIGTERM handler to unwind ``relay up`` through its cleanups.

    A BaseException (like KeyboardInterrupt) so no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signal_name = signal.Signals(signum).name


class _StopSignals(HeldByBlock):
    """SIGINT/SIGTERM raise :class:`StopRequested` once; later ones are only logged so a
    second Ctrl-C cannot interrupt the orderly shutdown."""

    def __init__(self) -> None:
        self.stopping = False
        self._previous: dict[signal.Signals, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            _log.info("relay_up_already_stopping", signal=signal.Signals(signum).name)
            return
        self.stopping = True
        raise StopRequested(signum)

    def _on_enter(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def _on_exit(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _print_servers(stack: EmbeddedStack, out: TextIO) -> None:
    endpoints = stack.endpoints
    nats = f"embedded, JetStream store {stack.nats.store_dir}" if stack.nats else "APP_NATS_URL"
    pg = f"embedded, data {stack.postgres.data_dir}" if stack.postgres else "APP_DATABASE_URL"
    s3 = "embedded moto, in memory" if stack.s3 else "APP_S3_ENDPOINT_URL"
    out.write(
        f"NATS      {endpoints.nats_url}  ({nats})\n"
        f"Postgres  {endpoints.database_url}  ({pg})\n"
        f"S3        {endpoints.s3_endpoint_url}  bucket {endpoints.s3_bucket}  ({s3})\n"
        f"logs      {stack.log_dir}\n"
    )


def _say(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()


def _serve_stack(
    options: UpOptions,
    env: Mapping[str, str],
    command: ServiceCommand,
    out: TextIO,
    stop_signals: _StopSignals,
) -> int:
    started = time.monotonic()
    state_dir = options.state_dir.resolve()
    with EmbeddedStack(state_dir, env, ready_timeout=options.ready_timeout) as stack:
        _print_servers(stack, out)
        http_port = options.http_port or free_port()
        with (
            env_with_google_fake(
                options.google_fake, state_dir, env, lambda line: _say(out, line)
            ) as env,
            ServiceProcesses.for_stack(
                stack.endpoints,
                state_dir,
                http_port=http_port,
                parent_env=env,
                command=command,
                stop_grace=options.stop_grace,
            ) as services,
            # With --json-logs the services' lines reach stderr as they are written.
            followed_if(options.json_logs, [services.log_path(n) for n in SERVICES], sys.stderr),
        ):
            try:
                services.start_all(SERVICES)
                _say(out, f"services  {' '.join(services.names)}")
                supervisor = Supervisor(services, options.restart, lambda line: _say(out, line))
                base_url = f"http://{LOCALHOST}:{http_port}"
                _say(out, f"gateway   {base_url}")
                wait_for_http_ok(
                    f"{base_url}/v1/health", timeout=options.ready_timeout, alive=supervisor.check
                )
                _say(out, f"ready in {time.monotonic() - started:.2f}s")
                while True:
                    supervisor.check()
                    time.sleep(SUPERVISE_INTERVAL)
            finally:
                stop_signals.stopping = True


def run_up(
    options: UpOptions,
    env: Mapping[str, str],
    *,
    command: ServiceCommand = serve_command,
    out: TextIO = sys.stdout,
) -> int:
    """Run the stack until a signal (exit 0) or a failure (exit 1)."""
    log_dir = options.state_dir.resolve() / "logs"
    with terminal_logging(options.json_logs, log_dir), _StopSignals() as stop_signals:
        try:
            return _serve_stack(options, env, command, out, stop_signals)
        except StopRequested as stop:
            _log.info("relay_up_stopped", signal=stop.signal_name)
            _say(out, "stopped")
            return 0
        except ServiceGaveUpError as error:
            _say(sys.stderr, f"relay up: {error}; stopped everything (its log: {error.log_path})")
            return 1
        except StackError as error:
            _log.error("relay_up_failed", code=error.code, error=str(error), **SHOWN)
            _say(sys.stderr, f"relay up failed: {error}")
            return 1


class InvalidPortError(ValueError):
    """``APP_HTTP_PORT`` is not a port number."""


def http_port(flag: int | None, env: Mapping[str, str]) -> int:
    """The gateway's port: the ``--port`` flag when given, else ``APP_HTTP_PORT``, else
    :data:`DEFAULT_HTTP_PORT` (0: any free port)."""
    if flag is not None:
        return flag
    raw = env.get(ENV_HTTP_PORT, "").strip()
    if not raw:
        return DEFAULT_HTTP_PORT
    if not raw.isdigit() or int(raw) > 65535:
        raise InvalidPortError(f"{ENV_HTTP_PORT} must be a port number (0-65535), not {raw!r}")
    return int(raw)


def _handle(args: argparse.Namespace) -> int:
    env = os.environ
    state_dir = args.state_dir or Path(env.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR)
    try:
        port = http_port(args.port, env)
    except InvalidPortError as exc:
        _say(sys.stderr, f"relay up: {exc}")
        return 2
    try:
        restart = RestartPolicy(
            initial_delay=args.restart_delay,
            max_delay=args.max_restart_delay,
            reset_after=args.restart_reset_after,
            max_crashes=args.max_crashes,
            crash_window=args.crash_window,
        )
    except InvalidRestartPolicyError as exc:
        _say(sys.stderr, f"relay up: {exc}")
        return 2
    options = UpOptions(
        state_dir=state_dir,
        http_port=port,
        ready_timeout=args.ready_timeout,
        stop_grace=args.stop_grace,
        restart=restart,
        json_logs=args.json_logs,
        google_fake=args.google_fake,
    )
    return run_up(options, env)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run the embedded stack and every service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--state-dir", type=Path, default=None,
        help=f"state folder (default: ${ENV_STATE_DIR} or {DEFAULT_STATE_DIR})",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=int, default=None,
        help=(
            f"gateway HTTP port (0: any free port; default: ${ENV_HTTP_PORT}, "
            f"else {DEFAULT_HTTP_PORT})"
        ),
    )  # fmt: skip
    parser.add_argument(
        "--ready-timeout", type=float, default=DEFAULT_READY_TIMEOUT,
        help="seconds to wait for the stack and the gateway (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--stop-grace", type=float, default=DEFAULT_STOP_GRACE,
        help="seconds a service gets after SIGTERM before SIGKILL (default %(default)s)",
    )  # fmt: skip
    _add_supervision_flags(parser)
    parser.add_argument("--google-fake", action="store_true", help=FLAG_HELP)
    add_json_logs_flag(parser)
    parser.set_defaults(handler=_handle)


def _add_supervision_flags(parser: argparse.ArgumentParser) -> None:
    policy = RestartPolicy()
    parser.add_argument(
        "--restart-delay", type=float, default=policy.initial_delay,
        help="seconds before restarting a service that died; doubles with each crash in a "
        "row (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-restart-delay", type=float, default=policy.max_delay,
        help="the longest delay before a restart (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--restart-reset-after", type=float, default=policy.reset_after,
        help="seconds up after which a crash counts as the first in a row again "
        "(default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-crashes", type=int, default=policy.max_crashes,
        help="crashes of one service within --crash-window that make relay up give up "
        "and stop everything (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--crash-window", type=float, default=policy.crash_window,
        help="seconds over which crashes are counted (default %(default)s)",
    )  # fmt: skip
