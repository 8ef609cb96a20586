"""The AsyncAPI document of Relay's bus, generated from the services' own brokers, and the
JSON Schema of each subject's payload.

Each service's app factory builds its broker, consumers and declared publishers without any
I/O, so the channels and operations are exactly what the code subscribes to and publishes.
Every message then gets its subject's real payload schema (consumers hand FastStream the raw
message, so it cannot know it), the headers, the stream and an example (see
:mod:`relay_shared.event_schemas` and :mod:`relay_shared.event_examples`). The document is
committed at ``shared/asyncapi.json`` and one schema per subject at
``shared/schemas/<subject>.json``; ``relay asyncapi --check`` (and a test) fail when any of
them is stale, missing or no longer generated.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from relay_cli.services import SERVICES
from relay_shared import event_schemas, subjects
from relay_shared.event_examples import example_events, example_message
from relay_shared.events import EVENT_TYPES

#: Every service's broker is documented.
DOCUMENTED_SERVICES = SERVICES
DEFAULT_PATH = Path("shared/asyncapi.json")
DEFAULT_SCHEMAS_DIR = Path("shared/schemas")
COMPONENT_REFS = "#/components/schemas/{model}"
HEADERS_COMPONENT = "EventHeaders"
DLQ_STREAM = subjects.dead_letter_stream(event_schemas.STREAM)
DESCRIPTION = f"""Subjects, payloads, publishers and consumers of Relay's services.

Every subject is stored in the JetStream stream `{event_schemas.STREAM}` (the services'
`APP_NATS_STREAM`). Publish with a JetStream publish (wait for the ack) and the header
`Nats-Msg-Id` equal to the payload's `event_id`: a repeat within the stream's duplicate
window ({event_schemas.DUPLICATE_WINDOW_S:g} s) is dropped. A message whose payload does not
validate is dead-lettered to `dlq.<subject>` in `{DLQ_STREAM}`
with code `invalid_event` and the validation errors (`relay dlq list` shows them). The JSON
Schema of each payload is also served at `GET /v1/schemas/{{subject}}` by the gateway."""


def _brokers() -> list[Any]:
    brokers = []
    for name in DOCUMENTED_SERVICES:
        module = importlib.import_module(f"relay_{name}.app")
        # Default settings, never the environment: the document must not depend on the
        # machine it is generated on.
        brokers.append(module.create_app(module.SETTINGS_TYPE()).broker)
    return brokers


def _component_schemas() -> dict[str, Any]:
    """Every payload schema and the nested models they use, and the headers."""
    components: dict[str, Any] = {HEADERS_COMPONENT: event_schemas.HEADERS_SCHEMA}
    for event_type in EVENT_TYPES.values():
        schema = event_schemas.payload_schema(event_type, COMPONENT_REFS)
        components.update(schema.pop("$defs", {}))
        components[event_type.__name__] = schema
    return dict(sorted(components.items()))


def _message_addresses(document: dict[str, Any]) -> dict[str, str]:
    """Each component message's name → the subject of the channel that carries it."""
    addresses: dict[str, str] = {}
    for channel in document["channels"].values():
        for message in channel["messages"].values():
            addresses[message["$ref"].rsplit("/", 1)[-1]] = channel["address"]
    return addresses


def _complete(document: dict[str, Any]) -> None:
    """Real payloads, headers, stream and an example on every message and channel."""
    examples = example_events()
    addresses = _message_addresses(document)
    for name, message in document["components"]["messages"].items():
        subject = addresses[name]
        event_type = EVENT_TYPES[subject]  # a subject without a model is a bug: KeyError
        message.update(
            name=event_type.__name__,
            contentType="application/json",
            payload={"$ref": COMPONENT_REFS.format(model=event_type.__name__)},
            headers={"$ref": COMPONENT_REFS.format(model=HEADERS_COMPONENT)},
            correlationId={
                "description": "The run's (or the request's) correlation id.",
                "location": "$message.payload#/correlation_id",
            },
            examples=[example_message(examples[subject])],
        )
    for channel in document["channels"].values():
        channel["x-nats-stream"] = event_schemas.STREAM
        channel["x-dead-letter-subject"] = subjects.dead_letter_subject(channel["address"])
    document["components"]["schemas"] = _component_schemas()


def build_document() -> dict[str, Any]:
    spec = AsyncAPI(
        *_brokers(),
        title="Relay event bus",
        version="1",
        description=DESCRIPTION,
        schema_version="3.0.0",
    )
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    for server in document.get("servers", {}).values():
        server["host"] = "nats:4222"
    _complete(document)
    return document


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def render() -> str:
    return _dumps(build_document())


def render_schemas() -> dict[str, str]:
    """File name → text of every subject's JSON Schema."""
    return {
        f"{subject}.json": _dumps(event_schemas.standalone_schema(subject))
        for subject in sorted(EVENT_TYPES)
    }


def write(path: Path = DEFAULT_PATH, schemas_dir: Path = DEFAULT_SCHEMAS_DIR) -> list[Path]:
    """Write the document and every schema (removing schemas no longer generated)."""
    path.write_text(render(), encoding="utf-8")
    written = [path]
    schemas_dir.mkdir(parents=True, exist_ok=True)
    wanted = render_schemas()
    for old in schemas_dir.glob("*.json"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        (schemas_dir / name).write_text(text, encoding="utf-8")
        written.append(schemas_dir / name)
    return written


def problems(path: Path = DEFAULT_PATH, schemas_dir: Path = DEFAULT_SCHEMAS_DIR) -> list[str]:
    """Every committed file that is not what would be generated, one line each."""
    found = [] if _same(path, render()) else [f"{path} is stale"]
    wanted = render_schemas()
    present = {p.name for p in schemas_dir.glob("*.json")} if schemas_dir.is_dir() else set()
    for name in sorted(present - set(wanted)):
        found.append(f"{schemas_dir / name} is not generated any more (no such subject)")
    for name, text in wanted.items():
        if name not in present:
            found.append(f"{schemas_dir / name} is missing")
        elif not _same(schemas_dir / name, text):
            found.append(f"{schemas_dir / name} is stale")
    return found


def _same(path: Path, text: str) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == text


def is_current(path: Path = DEFAULT_PATH, schemas_dir: Path = DEFAULT_SCHEMAS_DIR) -> bool:
    return not problems(path, schemas_dir)
