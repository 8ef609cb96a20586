"""docker-compose.yml: every service present and health-checked on its real endpoints, secrets
only from .env (documented in .env.example), NATS monitoring on 8222, the state folder on a
named volume, the same hardening as on Kubernetes."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from relay_cli.services import HTTP_SERVICE, SERVICES
from tests.deploy.code_facts import WORKERS, gateway_routes, worker_routes
from tests.deploy.compose import (
    COMPOSE,
    REQUIRED_REFERENCE,
    ComposeError,
    env_example_names,
    load_compose,
    service_environment,
    validate_compose,
)

PROBE = re.compile(
    r"^import urllib\.request; urllib\.request\.urlopen\('http://127\.0\.0\.1:(\d+)(/[^']*)', "
    r"timeout=\d+\)$"
)


def _healthcheck(service: str) -> tuple[int, str]:
    """The port and path the service's healthcheck asks (python's urllib: no curl needed)."""
    test = load_compose()["services"][service]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], service
    match = PROBE.match(test[3])
    assert match is not None, f"{service}: {test[3]}"
    return int(match.group(1)), match.group(2)


def test_the_file_follows_the_compose_specification() -> None:
    validate_compose(load_compose())


def _put(service: str, key: str, value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        document["services"][service][key] = value

    return mutate


def _interval(document: dict[str, Any]) -> None:
    document["services"]["gateway"]["healthcheck"]["interval"] = "ten"


COMPOSE_MUTATIONS = [
    ("unknown-key", _put("gateway", "helthcheck", {}), "helthcheck"),
    ("wrong-type", _put("pricing", "read_only", "yes"), "boolean"),
    ("bad-duration", _interval, "ten"),
    ("undeclared-volume", _put("sheets", "volumes", ["sheets:/var/lib/relay"]), "not declared"),
    (
        "unknown-dependency",
        _put("ingest", "depends_on", {"natz": {"condition": "service_healthy"}}),
        "natz",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "named"),
    [(mutate, named) for _, mutate, named in COMPOSE_MUTATIONS],
    ids=[case for case, _, _ in COMPOSE_MUTATIONS],
)
def test_a_wrong_compose_file_is_rejected(
    mutate: Callable[[dict[str, Any]], None], named: str
) -> None:
    document = copy.deepcopy(load_compose())
    mutate(document)
    with pytest.raises(ComposeError, match=named):
        validate_compose(document)


def test_every_service_runs_its_command() -> None:
    services = load_compose()["services"]
    for service in SERVICES:
        assert services[service]["command"] == ["relay", "serve", service]


def test_workers_are_health_checked_on_readyz_at_their_metrics_port() -> None:
    compose = load_compose()
    assert "/readyz" in worker_routes()
    for worker in WORKERS:
        port = int(service_environment(compose, worker)["APP_METRICS_PORT"])
        assert _healthcheck(worker) == (port, "/readyz"), worker


def test_the_gateway_is_health_checked_on_v1_ready() -> None:
    compose = load_compose()
    assert "/v1/ready" in gateway_routes()
    port = int(service_environment(compose, HTTP_SERVICE)["APP_HTTP_PORT"])
    assert _healthcheck(HTTP_SERVICE) == (port, "/v1/ready")
    assert f"{port}:{port}" in compose["services"][HTTP_SERVICE]["ports"]


def test_every_secret_comes_from_the_env_file_documented_in_the_example() -> None:
    referenced = set(REQUIRED_REFERENCE.findall(COMPOSE.read_text(encoding="utf-8")))
    assert {
        "APP_SECRET_KEY",
        "APP_BOOTSTRAP_ADMIN_KEY",
        "APP_WEBHOOK_SECRETS",
        "POSTGRES_PASSWORD",
        "MINIO_ROOT_PASSWORD",
    } <= referenced
    assert referenced <= env_example_names()
    postgres = load_compose()["services"]["postgres"]["environment"]
    assert REQUIRED_REFERENCE.fullmatch(postgres["POSTGRES_PASSWORD"])


def test_nats_serves_monitoring_on_8222() -> None:
    nats = load_compose()["services"]["nats"]
    command = nats["command"]
    assert command[command.index("-m") + 1] == "8222"
    assert "-js" in command
    assert "8222:8222" in nats["ports"]
    assert "8222/healthz" in " ".join(nats["healthcheck"]["test"])


def test_the_state_folder_of_sheets_is_a_named_volume() -> None:
    compose = load_compose()
    state_dir = service_environment(compose, "sheets")["APP_STATE_DIR"]
    volumes = compose["services"]["sheets"]["volumes"]
    named = [v.split(":")[0] for v in volumes if v.split(":")[1] == state_dir]
    assert len(named) == 1
    assert named[0] in compose["volumes"]


def test_services_run_hardened() -> None:
    services = load_compose()["services"]
    for service in SERVICES:
        definition = services[service]
        assert definition["read_only"] is True, service
        assert "/tmp" in definition["tmpfs"], service
        assert definition["cap_drop"] == ["ALL"], service
        assert "no-new-privileges:true" in definition["security_opt"], service
