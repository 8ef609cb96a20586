"""What a person (or a container log) sees when a server is missing: one line naming it, exit
1, no traceback; and ``relay dlq list`` on a stack that never dead-lettered anything."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping

import pytest

from relay_cli.stack import StackEndpoints, free_port
from relay_cli.up import InvalidPortError, http_port

pytestmark = pytest.mark.stack


def relay(
    args: list[str], env: Mapping[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay_cli", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, object]]:
    """Every line of ``text`` as JSON (fails on the first line that is not)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_dlq_list_on_a_fresh_stack_says_there_are_none(
    isolated_bus: StackEndpoints, clean_env: dict[str, str]
) -> None:
    result = relay(["dlq", "list"], {**clean_env, "APP_NATS_URL": isolated_bus.nats_url})
    assert (result.returncode, result.stdout) == (0, "no dead letters\n")
    json_result = relay(["dlq", "list", "--json"], {**clean_env, **isolated_bus.as_env()})
    assert (json_result.returncode, json_result.stdout) == (0, "")


def test_dlq_without_nats_names_it_in_one_line(clean_env: dict[str, str]) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = relay(["dlq", "list"], {**clean_env, "APP_NATS_URL": url})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"relay dlq: cannot reach NATS at {url}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_service_without_its_bucket_logs_one_json_line_and_exits_1(
    stack: StackEndpoints, clean_env: dict[str, str]
) -> None:
    missing = f"http://127.0.0.1:{free_port()}"
    env = {**clean_env, **stack.as_env(), "APP_S3_ENDPOINT_URL": missing}
    result = relay(["serve", "normalize"], env)
    assert result.returncode == 1
    lines = json_lines(result.stdout + result.stderr)
    errors = [line for line in lines if line["level"] == "error"]
    assert [(e["event"], e["dependency"], e["address"]) for e in errors] == [
        ("service.dependency_unreachable", "S3", missing)
    ]
    assert "Traceback" not in result.stderr


def test_a_service_without_its_database_names_postgres_without_the_password(
    stack: StackEndpoints, clean_env: dict[str, str]
) -> None:
    port = free_port()
    env = {
        **clean_env,
        **stack.as_env(),
        "APP_DATABASE_URL": f"postgresql://relay:s3cret@127.0.0.1:{port}/relay",
    }
    result = relay(["serve", "ingest"], env)
    assert result.returncode == 1
    errors = [
        line for line in json_lines(result.stdout + result.stderr) if line["level"] == "error"
    ]
    assert [(e["event"], e["dependency"], e["address"]) for e in errors] == [
        (
            "service.dependency_unreachable",
            "Postgres",
            f"postgresql://relay:***@127.0.0.1:{port}/relay",
        )
    ]
    assert "s3cret" not in result.stdout + result.stderr


def test_relay_up_port_flag_wins_over_app_http_port_which_wins_over_the_default() -> None:
    assert http_port(9001, {"APP_HTTP_PORT": "9002"}) == 9001
    assert http_port(0, {"APP_HTTP_PORT": "9002"}) == 0
    assert http_port(None, {"APP_HTTP_PORT": "9002"}) == 9002
    assert http_port(None, {"APP_HTTP_PORT": ""}) == 8080
    assert http_port(None, {}) == 8080
    with pytest.raises(InvalidPortError, match="APP_HTTP_PORT must be a port number"):
        http_port(None, {"APP_HTTP_PORT": "http"})


def test_a_service_without_nats_gives_up_after_the_start_timeout_naming_it(
    stack: StackEndpoints, clean_env: dict[str, str]
) -> None:
    missing = f"nats://127.0.0.1:{free_port()}"
    env = {
        **clean_env,
        **stack.as_env(),
        "APP_NATS_URL": missing,
        "APP_NATS_START_TIMEOUT_S": "2.5",
    }
    result = relay(["serve", "normalize"], env)
    assert result.returncode == 1
    errors = [
        line for line in json_lines(result.stdout + result.stderr) if line["level"] == "error"
    ]
    unreachable = [e for e in errors if e["event"] == "service.dependency_unreachable"]
    assert [(e["dependency"], e["address"], e["error"]) for e in unreachable] == [
        ("NATS", missing, "no answer within 2.5 s")
    ]
