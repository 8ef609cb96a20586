"""``relay up`` as a process: stack, services, readiness, clean stop, supervision.

The services are stand-ins (tests/cli/cli_fake_service.py) so this tests the command
itself; the real services are exercised by the e2e tests.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from up_process import read_report, relay_up

from relay_cli.stack import EmbeddedStack, free_port, http_ok
from relay_cli.stack.ports import accepts_connections

HERE = Path(__file__).parent
FAKE_SERVICE = str(HERE / "cli_fake_service.py")


@pytest.mark.stack
def test_up_runs_everything_and_sigint_stops_it(
    tmp_path: Path,
    clean_env: dict[str, str],
) -> None:
    port = free_port()
    with relay_up(FAKE_SERVICE, tmp_path / "state", port, clean_env) as up:
        nats = up.wait_for_line(r"^NATS\s+nats://127\.0\.0\.1:(\d+)")
        pg = up.wait_for_line(r"^Postgres\s+postgresql://relay@127\.0\.0\.1:(\d+)/relay")
        s3 = up.wait_for_line(r"^S3\s+http://127\.0\.0\.1:(\d+)\s+bucket relay")
        up.wait_for_line(r"^services  gateway ingest normalize pricing insights sheets channels$")
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
) -> None:
    port = free_port()
    env = {**clean_env, **local_stack.endpoints.as_env()}
    with relay_up(FAKE_SERVICE, tmp_path, port, env) as up:
        up.wait_for_line(rf"^NATS\s+{re.escape(local_stack.endpoints.nats_url)}\s+\(APP_NATS_URL\)")
        up.wait_for_line(r"^ready in ")
        up.proc.send_signal(sig)
        assert up.proc.wait(timeout=60) == 0
    assert not accepts_connections("127.0.0.1", port)
    assert not (tmp_path / "nats").exists()
    assert not (tmp_path / "postgres").exists()


def _died(name: str, how: str, delay: str, crash: int, limit: int, window: int) -> str:
    return (
        rf"^{name} died \({how}\) after \d+\.\ds; restarting in {re.escape(delay)}s "
        rf"\(crash {crash}; gives up at {limit} within {window}s\)$"
    )


def test_a_service_killed_with_sigkill_is_restarted_with_backoff_and_the_stack_serves(
    local_stack: EmbeddedStack,
    tmp_path: Path,
    clean_env: dict[str, str],
) -> None:
    port = free_port()
    reports = tmp_path / "reports"
    reports.mkdir()
    env = {**clean_env, **local_stack.endpoints.as_env(), "FAKE_REPORT_DIR": str(reports)}
    restart = {"initial_delay": 0.2, "max_delay": 0.4, "reset_after": 60.0}
    health = f"http://127.0.0.1:{port}/v1/health"
    with relay_up(FAKE_SERVICE, tmp_path / "state", port, env, restart=restart) as up:
        up.wait_for_line(r"^ready in ")
        pids = [read_report(reports, "gateway")["pid"]]
        # Each SIGKILL in a row doubles the delay, up to the maximum (0.2, 0.4, 0.4).
        for crash, delay in enumerate(["0.2", "0.4", "0.4"], start=1):
            os.kill(pids[-1], signal.SIGKILL)
            up.wait_for_line(_died("gateway", "killed by SIGKILL", delay, crash, 5, 300))
            restarted = int(up.wait_for_line(r"^gateway restarted \(pid (\d+)\)$").group(1))
            assert read_report(reports, "gateway")["pid"] == restarted  # the new one is up
            assert http_ok(health)
            pids.append(restarted)
        assert len(set(pids)) == 4

        up.proc.send_signal(signal.SIGINT)
        code, lines, stderr = up.finish()
    assert code == 0
    assert lines[-1] == "stopped"
    assert stderr == ""
    assert not accepts_connections("127.0.0.1", port)


def test_up_gives_up_on_a_service_that_keeps_crashing(
    local_stack: EmbeddedStack,
    tmp_path: Path,
    clean_env: dict[str, str],
) -> None:
    port = free_port()
    env = {**clean_env, **local_stack.endpoints.as_env(), "FAKE_CRASH": "insights"}
    restart = {"initial_delay": 0.05, "max_delay": 0.1, "max_crashes": 3, "crash_window": 60.0}
    state = tmp_path / "state"
    with relay_up(FAKE_SERVICE, state, port, env, restart=restart) as up:
        code, lines, stderr = up.finish()
    assert code == 1
    insights_lines = [line for line in lines if line.startswith("insights ")]
    expected = [
        _died("insights", "exit code 3", "0.05", 1, 3, 60),
        r"^insights restarted \(pid \d+\)$",
        _died("insights", "exit code 3", "0.1", 2, 3, 60),
        r"^insights restarted \(pid \d+\)$",
    ]
    assert len(insights_lines) == len(expected), insights_lines
    for line, pattern in zip(insights_lines, expected, strict=True):
        assert re.match(pattern, line), (line, pattern)
    log = state.resolve() / "logs" / "insights.log"
    assert stderr == (
        "relay up: insights died 3 times within 60s (last: exit code 3); "
        f"stopped everything (its log: {log})\n"
    )
    assert log.read_text().count("insights: crashing on purpose") == 3
    assert not accepts_connections("127.0.0.1", port)


def test_restart_flags_parse_with_documented_defaults() -> None:
    from relay_cli.main import build_parser

    args = build_parser().parse_args(
        ["up", "--restart-delay", "0.5", "--max-restart-delay", "8", "--restart-reset-after",
         "20", "--max-crashes", "7", "--crash-window", "90", "--json-logs"]
    )  # fmt: skip
    assert (
        args.restart_delay, args.max_restart_delay, args.restart_reset_after, args.max_crashes,
        args.crash_window, args.json_logs,
    ) == (0.5, 8.0, 20.0, 7, 90.0, True)  # fmt: skip
    defaults = build_parser().parse_args(["up"])
    assert (
        defaults.restart_delay, defaults.max_restart_delay, defaults.restart_reset_after,
        defaults.max_crashes, defaults.crash_window, defaults.json_logs,
    ) == (1.0, 30.0, 60.0, 5, 300.0, False)  # fmt: skip


def test_an_impossible_restart_setting_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from relay_cli.main import build_parser

    args = build_parser().parse_args(["up", "--max-crashes", "0"])
    assert args.handler(args) == 2
    assert capsys.readouterr().err == "relay up: max crashes must be at least 1, not 0\n"
