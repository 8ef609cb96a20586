"""docker-compose.yml and .env.example read as data (no Docker engine needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from compose_spec import PyCompose

from tests.deploy.manifests import ROOT

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
#: ``${NAME:?message}``: compose refuses to start while NAME is unset or empty.
REQUIRED_REFERENCE = re.compile(r"\$\{([A-Z0-9_]+):\?[^}]*\}")


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


class ComposeError(AssertionError):
    """The compose file breaks the Compose Specification (what and where)."""


def validate_compose(document: dict[str, Any]) -> None:
    """Check ``document`` (merge keys resolved) against the Compose Specification (the Rust
    ``compose_spec`` parser: unknown keys, wrong types and malformed durations are errors)."""
    try:
        PyCompose.from_json(json.dumps(document))
    except ValueError as exc:
        raise ComposeError(f"docker-compose.yml: {exc}") from exc
    services = document["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            if dependency not in services:
                raise ComposeError(f"services.{name}.depends_on: no service {dependency}")
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")) and source not in document.get("volumes", {}):
                raise ComposeError(f"services.{name}.volumes: {source} is not declared")


def service_environment(compose: dict[str, Any], service: str) -> dict[str, str]:
    environment = compose["services"][service].get("environment", {})
    if not isinstance(environment, dict):
        raise AssertionError(f"compose {service}: environment must be a mapping")
    return {str(key): str(value) for key, value in environment.items()}


def env_example_names(path: Path = ENV_EXAMPLE) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line.split("=", 1)[0])
    return names
