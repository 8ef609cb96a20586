"""``relay up`` as a process: stack, services, readiness, clean stop, crash handling.

The services are stand-ins (tests/cli/cli_fake_service.py) so this tests the command
itself; the real services are exercised by the e2e tests.
"""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from relay_cli.stack import EmbeddedStack, free_port, http_ok
from relay_cli.stack.ports import accepts_connections

RUN_UP = """
import os, sys
from pathlib import Path
from relay_cli.log_config import configure_logging
from relay_cli.up import UpOptions, run_up
configure_logging()
script, state_dir, port = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
options = UpOptions(state_dir=state_dir, http_port=port, ready_timeout=60, stop_grace=5)
sys.exit(run_up(options, os.environ, command=lambda n: [sys.executable, script, n]))
"""


class UpProcess:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: str, timeout: float = 90.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r}; got {self.lines}")


@contextmanager
def relay_up(
    script: Callable[[str], list[str]], state_dir: Path, port: int, env: dict[str, str]
) -> Iterator[UpProcess]:
    fake_script = script("x")[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_UP, fake_script, str(state_dir), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield UpProcess(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.stack
def test_up_runs_everything_and_sigint_stops_it(
    tmp_path: Path,
    clean_env: dict[str, str],
    fake_service_command: Callable[[str], list[str]],
) -> None:
    port = free_port()
    with relay_up(fake_service_command, tmp_path / "state", port, clean_env) as up:
        nats = up.wait_for_line(r"^NATS\s+nats://127\.0\.0\.1:(\d+)")
        pg = up.wait_for_line(r"^Postgres\s+postgresql://relay@127\.0\.0\.1:(\d+)/relay")
        s3 = up.wait_for_line(r"^S3\s+http://127\.0\.0\.1:(\d+)\s+bucket relay")
        up.wait_for_line(rf"^gateway\s+http://127\.0\.0\.1:{port}$")
        up.wait_for_line(r"^ready in \d+\.\d\ds$")
        assert http_ok(f"http://127.0.0.1:{port}/v1/health")
        ports = [int(m.group(1)) for m in (nats, pg, s3)] + [port]
        assert all(accepts_connections("127.0.0.1", p) for p in ports)

        up.proc.send_signal(signal.SIGINT)
        assert up.proc.wait(timeout=60) == 0
        up.wait_for_line(r"^stopped$")
    assert [p for p in ports if accepts_connections("127.0.0.1", p)] == []
    logs = tmp_path / "state" / "logs"
    assert {p.name for p in logs.iterdir()} >= {"nats.log", "postgres.log", "gateway.log"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_up_with_given_urls_starts_no_servers(
    sig: signal.Signals,
    local_stack: EmbeddedStack,
    tmp_path: Path,
    clean_env: dict[str, str],
    fake_service_command: Callable[[str], list[str]],
) -> None:
    port = free_port()
    env = {**clean_env, **local_stack.endpoints.as_env()}
    with relay_up(fake_service_command, tmp_path, port, env) as up:
        up.wait_for_line(rf"^NATS\s+{re.escape(local_stack.endpoints.nats_url)}\s+\(APP_NATS_URL\)")
        up.wait_for_line(r"^ready in ")
        up.proc.send_signal(sig)
        assert up.proc.wait(timeout=60) == 0
    assert not accepts_connections("127.0.0.1", port)
    assert not (tmp_path / "nats").exists()
    assert not (tmp_path / "postgres").exists()


def test_up_stops_everything_when_a_service_dies(
    local_stack: EmbeddedStack,
    tmp_path: Path,
    clean_env: dict[str, str],
    fake_service_command: Callable[[str], list[str]],
) -> None:
    port = free_port()
    env = {**clean_env, **local_stack.endpoints.as_env(), "FAKE_CRASH": "insights"}
    with relay_up(fake_service_command, tmp_path, port, env) as up:
        assert up.proc.wait(timeout=60) == 1
        assert up.proc.stderr is not None
        stderr = up.proc.stderr.read()
    assert "insights exited unexpectedly (code 3); stopped everything" in stderr
    assert "insights: crashing on purpose" in stderr
    assert not accepts_connections("127.0.0.1", port)
