"""The AsyncAPI document of Relay's bus, generated from the services' own brokers.

Each service's app factory builds its broker, consumers and declared publishers without any
I/O, so the document is exactly what the code subscribes to and publishes. It is committed
at ``shared/asyncapi.json``; ``relay asyncapi --check`` (and a test) fail when it is stale.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from relay_cli.services import SERVICES

#: Every service's broker is documented.
DOCUMENTED_SERVICES = SERVICES
DEFAULT_PATH = Path("shared/asyncapi.json")


def build_document() -> dict[str, Any]:
    brokers = []
    for name in DOCUMENTED_SERVICES:
        module = importlib.import_module(f"relay_{name}.app")
        # Default settings, never the environment: the document must not depend on the
        # machine it is generated on.
        brokers.append(module.create_app(module.SETTINGS_TYPE()).broker)
    spec = AsyncAPI(
        *brokers,
        title="Relay event bus",
        version="1",
        description="Subjects, payloads, publishers and consumers of Relay's services.",
        schema_version="3.0.0",
    )
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    for server in document.get("servers", {}).values():
        server["host"] = "nats:4222"
    return document


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


def write(path: Path = DEFAULT_PATH) -> None:
    path.write_text(render(), encoding="utf-8")


def is_current(path: Path = DEFAULT_PATH) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render()
