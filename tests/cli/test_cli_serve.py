"""``relay serve`` and the command-line dispatch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

from relay_cli import main as relay_main
from relay_cli.serve import ServiceEntryPointError, load_service_main, run_service
from relay_cli.services import SERVICE_MODULES, SERVICES
from relay_cli.stack.readiness import wait_until

SERVE_FAKE = (
    "import sys; from relay_cli.serve import run_service; "
    "sys.exit(run_service('gateway', modules={'gateway': 'cli_fake_app'}))"
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_cancels_main_and_exits_zero(
    sig: signal.Signals, tmp_path: Path, clean_env: dict[str, str], fake_app_dir: Path
) -> None:
    env = {**clean_env, "FAKE_MARKER_DIR": str(tmp_path), "PYTHONPATH": str(fake_app_dir)}
    proc = subprocess.Popen([sys.executable, "-c", SERVE_FAKE], env=env)
    try:
        wait_until((tmp_path / "started").exists, what="fake service", timeout=30)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()
    assert (tmp_path / "cancelled").exists()


def test_main_returning_exits_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def main() -> None:
        calls.append("ran")

    module = types.ModuleType("relay_fake_returning_app")
    module.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    assert run_service("ingest", modules={"ingest": module.__name__}) == 0
    assert calls == ["ran"]


def test_module_without_main_is_rejected() -> None:
    with pytest.raises(ServiceEntryPointError) as caught:
        load_service_main("pricing", modules={"pricing": "json"})
    assert caught.value.module == "json"


def test_service_modules_follow_the_naming_rule() -> None:
    assert dict(SERVICE_MODULES) == {name: f"relay_{name}.app" for name in SERVICES}
    assert SERVICES == (
        "gateway",
        "ingest",
        "normalize",
        "pricing",
        "insights",
        "sheets",
        "channels",
    )


def test_serve_rejects_unknown_service(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        relay_main.main(["serve", "billing"])
    assert caught.value.code == 2
    assert "invalid choice: 'billing'" in capsys.readouterr().err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        relay_main.main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for command in ("up", "serve", "local-run"):
        assert command in out


def test_local_run_is_dispatched_with_its_own_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        received.append(argv)
        return 7

    monkeypatch.setattr("relay_cli.local_run.main", fake_main)
    assert relay_main.main(["local-run", "--help", "--vendor", "acme"]) == 7
    assert received == [["--help", "--vendor", "acme"]]


def test_python_dash_m_entry_point(clean_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relay_cli", "up", "--help"],
        capture_output=True,
        text=True,
        env=clean_env,
        timeout=60,
        check=False,
        cwd=os.getcwd(),
    )
    assert result.returncode == 0
    assert "--state-dir" in result.stdout
    assert "--port" in result.stdout


LEAN_SERVE = (
    "import sys; from relay_cli.main import build_parser; "
    "parser = build_parser('serve'); "
    "args = parser.parse_args(['serve', 'insights']); "
    "others = ('relay_cli.demo', 'relay_cli.up', 'relay_cli.asyncapi_command', 'relay_cli.dlq',"
    " 'relay_cli.operator.commands', 'relay_cli.stack.embedded', 'openpyxl'); "
    "print(args.command, args.service, [m for m in others if m in sys.modules])"
)


def test_serve_builds_its_parser_without_the_other_commands(clean_env: dict[str, str]) -> None:
    """A service process (one per service in `relay up`, one per pod) imports only `serve`
    and its own app: not the demo, the embedded stack or the other commands."""
    out = subprocess.run(
        [sys.executable, "-c", LEAN_SERVE], env=clean_env, capture_output=True, text=True
    )
    assert (out.returncode, out.stdout, out.stderr) == (0, "serve insights []\n", "")
