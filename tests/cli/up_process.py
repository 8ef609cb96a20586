"""``relay up`` (run_up with stand-in services) as a child process, its stdout read line by
line as it comes, for tests/cli/test_cli_up*.py."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from relay_cli.stack.readiness import wait_until

# argv: service script, state dir, port, UpOptions fields as JSON ("restart": RestartPolicy's).
RUN_UP = """
import json, os, sys
from pathlib import Path
from relay_cli.log_config import configure_logging
from relay_cli.stack.restart_policy import RestartPolicy
from relay_cli.up import UpOptions, run_up
configure_logging()
script, state_dir, port, extra = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fields = json.loads(extra)
fields["restart"] = RestartPolicy(**fields.get("restart", {}))
options = UpOptions(state_dir=state_dir, http_port=port, ready_timeout=60, stop_grace=5, **fields)
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
        """The next stdout line matching ``pattern`` (the lines before it are kept in
        :attr:`lines`)."""
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

    def finish(self, timeout: float = 60.0) -> tuple[int, list[str], str]:
        """Wait for the exit; the exit code, every stdout line, and all of stderr."""
        code = self.proc.wait(timeout=timeout)
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.lines.append(line)
        assert self.proc.stderr is not None
        return code, self.lines, self.proc.stderr.read()


@contextmanager
def relay_up(
    service_script: str,
    state_dir: Path,
    port: int,
    env: dict[str, str],
    **options: Any,
) -> Iterator[UpProcess]:
    argv = [service_script, str(state_dir), str(port), json.dumps(options)]
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_UP, *argv],
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


def read_report(report_dir: Path, name: str, timeout: float = 30.0) -> dict[str, Any]:
    """The report the stand-in ``name`` writes once up (then removed, so the next start's
    report is a new event)."""
    path = report_dir / f"{name}.json"
    wait_until(path.exists, what=f"{name} report", timeout=timeout)
    data: dict[str, Any] = json.loads(path.read_text())
    path.unlink()
    return data
