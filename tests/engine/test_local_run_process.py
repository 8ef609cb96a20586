"""``python -m relay_cli.local_run`` as a process: it ends without Python's finalisation
(``os._exit``), so these check that its files, stdout and exit codes are all there anyway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from relay_cli.local_run import main
from tests.engine.test_local_run import args, workspace

__all__ = ["workspace"]  # the fixture, used by name


def _run_process(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(  # stdout is a pipe: block-buffered, so only a flush gets it out
        [sys.executable, "-m", "relay_cli.local_run", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def _files(out: Path) -> dict[str, bytes]:
    """Every file's bytes, the summary's ``timings_ms`` (not deterministic) aside."""
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    summary = json.loads(files.pop("run_summary.json"))
    summary.pop("timings_ms")
    files["run_summary.json"] = json.dumps(summary).encode()
    return files


def test_process_writes_what_main_writes(workspace: Path) -> None:
    feeds = ["--feed", f"v1={workspace / 'a.csv'}", "--feed", f"v2={workspace / 'b.csv'}"]
    assert main(args(workspace, *feeds)) == 0
    in_process = _files(workspace / "out")
    finished = _run_process(args(workspace, *feeds))
    assert finished.returncode == 0, finished.stderr
    assert "run local-20260101T000000Z succeeded: 2 rows" in finished.stdout
    assert _files(workspace / "out") == in_process
    assert not [p for p in (workspace / "out").rglob(".*.tmp")]


def test_process_failed_run_exits_1(workspace: Path) -> None:
    finished = _run_process(args(workspace, "--feed", f"v2={workspace / 'b.csv'}"))
    assert finished.returncode == 1, finished.stderr
    assert "failed" in finished.stdout
    assert (workspace / "out" / "errors.json").is_file()


def test_process_bad_arguments_exit_2_with_stderr(workspace: Path) -> None:
    finished = _run_process(args(workspace, "--feed", f"v1={workspace / 'nope.csv'}"))
    assert finished.returncode == 2
    assert "relay local-run:" in finished.stderr
    assert not (workspace / "out").exists()


def test_the_relay_command_runs_local_run_without_the_servers_imports(workspace: Path) -> None:
    """``relay local-run`` goes through the ``relay`` entry point; the logging, networking
    and service stacks the other sub-commands need (structlog alone is ~0.09 s of rich and
    asyncio imports) must not be loaded for it."""
    feeds = ["--feed", f"v1={workspace / 'a.csv'}", "--feed", f"v2={workspace / 'b.csv'}"]
    heavy = ("structlog", "rich", "asyncio", "aiohttp", "nats", "asyncpg", "aiobotocore")
    probe = (
        "import sys\n"
        "from relay_cli.main import main\n"
        f"code = main(['local-run', *{args(workspace, *feeds)!r}])\n"
        f"loaded = sorted(m for m in {heavy!r} if m in sys.modules)\n"
        "print('exit', code, 'loaded', loaded)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines()[-1] == "exit 0 loaded []"
