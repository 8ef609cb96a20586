"""What ``relay up`` puts on a terminal: short human lines by default, the services' and its
own JSON in the log folder; with ``--json-logs`` those JSON lines on stderr as well.

The stand-in services (tests/cli/cli_json_service.py) each write one JSON line when they
start, as the real services do.
"""

from __future__ import annotations

import io
import json
import logging
import signal
from pathlib import Path
from typing import Any

import pytest
import structlog
from up_process import read_report, relay_up

from relay_cli.log_config import SHOWN, human_line, terminal_logging
from relay_cli.services import SERVICES
from relay_cli.stack import EmbeddedStack, free_port

JSON_SERVICE = str(Path(__file__).parent / "cli_json_service.py")


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _run_until_ready_then_stop(
    stack: EmbeddedStack, state: Path, env: dict[str, str], **options: Any
) -> tuple[list[str], str]:
    reports = state.parent / "reports"
    reports.mkdir()
    env = {**env, **stack.endpoints.as_env(), "FAKE_REPORT_DIR": str(reports)}
    with relay_up(JSON_SERVICE, state, free_port(), env, **options) as up:
        up.wait_for_line(r"^ready in ")
        for name in SERVICES:  # each is up, its JSON line written
            read_report(reports, name)
        up.proc.send_signal(signal.SIGINT)
        code, lines, stderr = up.finish()
    assert code == 0
    return lines, stderr


def test_by_default_the_terminal_gets_short_lines_and_the_json_stays_in_the_log_folder(
    local_stack: EmbeddedStack, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    state = tmp_path / "state"
    lines, stderr = _run_until_ready_then_stop(local_stack, state, clean_env)

    assert stderr == ""
    assert [line for line in lines if line.lstrip().startswith("{")] == []
    assert lines[0].startswith("NATS ")
    assert lines[-1] == "stopped"
    logs = state.resolve() / "logs"
    relay_events = _json_lines((logs / "relay.log").read_text())
    started = [e["service"] for e in relay_events if e["event"] == "service_started"]
    assert started == list(SERVICES)
    assert [e["event"] for e in relay_events][-2:] == ["services_stopped", "relay_up_stopped"]
    for name in SERVICES:  # every line JSON; the gateway's also has aiohttp's access lines
        service_events = _json_lines((logs / f"{name}.log").read_text())
        assert (service_events[0]["service"], service_events[0]["event"]) == (
            name, "fake_service_up"
        )  # fmt: skip


def test_json_logs_puts_the_services_and_relays_json_lines_on_stderr(
    local_stack: EmbeddedStack, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    state = tmp_path / "state"
    lines, stderr = _run_until_ready_then_stop(local_stack, state, clean_env, json_logs=True)

    events = _json_lines(stderr)  # every stderr line is JSON
    service_lines = {e["service"] for e in events if e["event"] == "fake_service_up"}
    assert service_lines == set(SERVICES)
    relay_started = [e["service"] for e in events if e["event"] == "service_started"]
    assert relay_started == list(SERVICES)
    assert lines[-1] == "stopped"  # the short lines are still on stdout
    assert not (state / "logs" / "relay.log").exists()


def test_inside_terminal_logging_warnings_reach_the_terminal_as_one_short_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger(), "level", logging.INFO)  # as `relay` sets it
    terminal = io.StringIO()
    log = structlog.get_logger("test")
    with terminal_logging(False, tmp_path / "logs", terminal) as relay_log:
        log.info("quiet_event", a=1)
        log.warning("loud_event", process="sheets", grace=10.0)
        log.warning("already_said", **SHOWN)
        logging.getLogger("some.library").warning("library %s", "trouble")
    assert relay_log == tmp_path / "logs" / "relay.log"
    assert terminal.getvalue() == (
        "relay: warning: loud_event process=sheets grace=10.0\nrelay: warning: library trouble\n"
    )
    events = [e["event"] for e in _json_lines(relay_log.read_text())]
    assert events == ["quiet_event", "loud_event", "already_said", "library trouble"]


def test_human_line_keeps_warnings_and_worse_only() -> None:
    line = '{"event": "x", "level": "error", "timestamp": "t", "service": "relay", "code": 3}'
    assert human_line(line) == "relay: error: x code=3"
    assert human_line('{"event": "x", "level": "info"}') is None
    assert human_line('{"event": "x", "level": "error", "shown_on_terminal": true}') is None
    assert human_line("not json") is None
    assert human_line("[1, 2]") is None
