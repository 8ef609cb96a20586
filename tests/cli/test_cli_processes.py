"""ServiceProcesses: one OS process per service, started/stopped/killed/restarted by name."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relay_cli.services import SERVICES
from relay_cli.stack import ServiceProcesses, StackEndpoints, free_port
from relay_cli.stack.readiness import wait_until

ENDPOINTS = StackEndpoints(
    nats_url="nats://127.0.0.1:1",
    database_url="postgresql://relay@127.0.0.1:2/relay",
    s3_endpoint_url="http://127.0.0.1:3",
    s3_bucket="relay",
    s3_region="us-east-1",
    s3_access_key_id="testing",
    s3_secret_access_key="testing",
)


def _report(report_dir: Path, name: str, timeout: float = 30.0) -> dict[str, Any]:
    path = report_dir / f"{name}.json"
    wait_until(path.exists, what=f"{name} report", timeout=timeout)
    data: dict[str, Any] = json.loads(path.read_text())
    path.unlink()
    return data


@pytest.fixture
def processes(
    tmp_path: Path,
    clean_env: dict[str, str],
    fake_service_command: Callable[[str], list[str]],
) -> ServiceProcesses:
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    env = {**clean_env, "FAKE_REPORT_DIR": str(report_dir), "APP_CUSTOM": "passed-through"}
    env["APP_HTTP_PORT"] = "1"  # from the parent: must not reach non-gateway services
    return ServiceProcesses.for_stack(
        ENDPOINTS,
        tmp_path / "state",
        http_port=free_port(),
        parent_env=env,
        command=fake_service_command,
        stop_grace=5.0,
    )


def test_every_service_gets_the_stack_env(processes: ServiceProcesses, tmp_path: Path) -> None:
    with processes:
        processes.start_all()
        reports = {name: _report(tmp_path / "reports", name) for name in SERVICES}
    state_dir = str(tmp_path / "state")
    for name, report in reports.items():
        env = report["env"]
        assert {k: env[k] for k in ENDPOINTS.as_env()} == ENDPOINTS.as_env()
        assert env["APP_STATE_DIR"] == state_dir
        assert env["APP_CUSTOM"] == "passed-through"
        assert ("APP_HTTP_PORT" in env) == (name == "gateway")
    assert processes.unexpected_exits() == {}
    assert sorted(processes.names) == sorted(SERVICES)


def test_stop_is_graceful_kill_is_sigkill_restart_gets_new_pid(
    processes: ServiceProcesses, tmp_path: Path
) -> None:
    with processes:
        first_pid = processes.start("ingest")
        assert _report(tmp_path / "reports", "ingest")["pid"] == first_pid
        assert processes.stop("ingest") == 0
        assert not processes.is_running("ingest")

        second_pid = processes.start("ingest")
        _report(tmp_path / "reports", "ingest")
        assert processes.kill("ingest") == -signal.SIGKILL
        assert processes.unexpected_exits() == {}

        processes.start("ingest")
        _report(tmp_path / "reports", "ingest")
        third_pid = processes.restart("ingest")
        assert _report(tmp_path / "reports", "ingest")["pid"] == third_pid
        assert len({first_pid, second_pid, third_pid}) == 3
        assert processes.is_running("ingest")
    assert not processes.is_running("ingest")


def test_unexpected_exit_is_reported(
    tmp_path: Path, clean_env: dict[str, str], fake_service_command: Callable[[str], list[str]]
) -> None:
    env = {**clean_env, "FAKE_CRASH": "pricing"}
    with ServiceProcesses.for_stack(
        ENDPOINTS, tmp_path, parent_env=env, command=fake_service_command
    ) as processes:
        processes.start("pricing")
        assert processes.wait("pricing", timeout=30) == 3
        assert processes.unexpected_exits() == {"pricing": 3}
        assert "pricing: crashing on purpose" in processes.log_tail("pricing")
        assert (tmp_path / "logs" / "pricing.log").is_file()


def test_sigkill_after_grace_when_sigterm_is_ignored(
    tmp_path: Path, clean_env: dict[str, str], fake_service_command: Callable[[str], list[str]]
) -> None:
    env = {**clean_env, "FAKE_REPORT_DIR": str(tmp_path), "FAKE_IGNORE_SIGTERM": "sheets"}
    with ServiceProcesses.for_stack(
        ENDPOINTS, tmp_path, parent_env=env, command=fake_service_command
    ) as processes:
        processes.start("sheets")
        _report(tmp_path, "sheets")
        assert processes.stop("sheets", grace=0.5) == -signal.SIGKILL


def test_wait_times_out_while_running(processes: ServiceProcesses, tmp_path: Path) -> None:
    with processes:
        processes.start("normalize")
        _report(tmp_path / "reports", "normalize")
        with pytest.raises(subprocess.TimeoutExpired):
            processes.wait("normalize", timeout=0.1)
        os.kill(processes.pid("normalize"), signal.SIGTERM)
        assert processes.wait("normalize", timeout=30) == 0
        assert processes.unexpected_exits() == {"normalize": 0}
