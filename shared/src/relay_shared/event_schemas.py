"""The published contract of every subject: a JSON Schema of its payload and of its headers.

One source: the pydantic models of :mod:`relay_shared.events`, read in validation mode (what a
consumer accepts). ``relay asyncapi`` writes each subject's schema to
``shared/schemas/<subject>.json`` and puts the same definitions in ``shared/asyncapi.json``;
``relay asyncapi --check`` fails when either is stale. The gateway serves the same schemas at
``GET /v1/schemas/{subject}``, computed from the models it runs with.

The ``subject`` field of a model is the subject itself (never serialized), so it is left out
of the schema. Headers are the same for every subject (:data:`HEADERS_SCHEMA`).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from relay_shared.bus.publishing import CORRELATION_HEADER, MSG_ID_HEADER
from relay_shared.bus.streams import StreamSettings
from relay_shared.events import EVENT_TYPES, Event, FeedReceived
from relay_shared.tracing import TRACEPARENT

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Where a standalone schema keeps its nested models.
LOCAL_REFS = "#/$defs/{model}"
#: The stream every subject is stored in (``APP_NATS_STREAM``; this is its default).
STREAM = StreamSettings().name
DUPLICATE_WINDOW_S = StreamSettings().duplicate_window_s
FASTSTREAM_CORRELATION_HEADER = "correlation_id"
#: The shape of a subject (``feed.received``, ``reallocation.claim_requested``).
SUBJECT_PATTERN = r"^[a-z][a-z_]{0,31}(\.[a-z][a-z_]{0,31}){1,3}$"
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"

HEADERS_SCHEMA: dict[str, Any] = {
    "title": "EventHeaders",
    "description": (
        "NATS headers of every event. Only Nats-Msg-Id is required of a publisher; Relay's "
        "own publishers set all of them (traceparent only while tracing is on)."
    ),
    "type": "object",
    "required": [MSG_ID_HEADER],
    "properties": {
        MSG_ID_HEADER: {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "description": (
                "Exactly the payload's event_id. JetStream stores one message per id within "
                f"the stream's duplicate window ({DUPLICATE_WINDOW_S:g} s): publishing the same "
                "event again (a retry) is dropped. A dead letter names the event by it."
            ),
        },
        CORRELATION_HEADER: {
            "type": "string",
            "description": "The payload's correlation_id (informative; the payload wins).",
        },
        FASTSTREAM_CORRELATION_HEADER: {
            "type": "string",
            "description": "FastStream's copy of the correlation id (informative).",
        },
        TRACEPARENT: {
            "type": "string",
            "pattern": TRACEPARENT_PATTERN,
            "description": (
                "W3C trace context: the consumer continues this trace when tracing is on."
            ),
        },
        "content-type": {"type": "string", "enum": ["application/json"]},
    },
    "additionalProperties": {"type": "string"},
}


#: What a field means, where the model does not say (every event's envelope, and the fields
#: an outside publisher of ``feed.received`` fills in).
FIELD_NOTES: dict[str, str] = {
    "schema_version": "The payload's version: 1.",
    "event_id": (
        "Unique per event and stable across retries of it (derive it from what the event is "
        "about); also the Nats-Msg-Id header."
    ),
    "occurred_at": "When it happened: ISO-8601 with a zone (a naive time is refused).",
    "tenant_id": "The tenant the event belongs to.",
    "correlation_id": "Ties the events of one run or request together (logs, traces).",
}
FEED_RECEIVED_NOTES: dict[str, str] = {
    "run_id": "null for a feed from another system: a one-vendor update (its own scope).",
    "vendor_id": "A vendor of the tenant's config (else the feed fails as unknown_vendor).",
    "config_version": "The tenant config version to read the feed with (>= 1, must exist).",
    "key": "The S3 key of the uploaded file; must lie under tenants/<tenant_id>/.",
    "sha256": "Hex sha256 of the file (informative; normalize hashes what it reads).",
    "size": "The file's size in bytes (informative).",
    "run_vendors": "[vendor_id] for a one-vendor update.",
    "as_of": "The time the feed's stock is valid at (freshness and updated_at use it).",
}


def payload_schema(event_type: type[Event], ref_template: str = LOCAL_REFS) -> dict[str, Any]:
    """The JSON Schema of ``event_type``'s payload, nested models under ``$defs`` referenced
    by ``ref_template``."""
    schema = event_type.model_json_schema(ref_template=ref_template, mode="validation")
    properties: dict[str, Any] = schema["properties"]
    properties.pop("subject", None)
    notes = FIELD_NOTES | (FEED_RECEIVED_NOTES if event_type is FeedReceived else {})
    for name, note in notes.items():
        if name in properties and "description" not in properties[name]:
            properties[name]["description"] = note
    return schema


def standalone_schema(subject: str) -> dict[str, Any]:
    """The self-contained schema file of ``subject`` (``KeyError`` for an unknown subject)."""
    event_type = EVENT_TYPES[subject]
    schema = payload_schema(event_type)
    return {
        "$schema": DIALECT,
        "$comment": (
            f"The payload of NATS subject {subject} (stream {STREAM}), generated from "
            f"relay_shared.events.{event_type.__name__} by `relay asyncapi`: do not edit."
        ),
        **schema,
    }


@cache
def _published() -> dict[str, dict[str, Any]]:
    return {subject: standalone_schema(subject) for subject in EVENT_TYPES}


def published_schema(subject: str) -> dict[str, Any] | None:
    """What ``GET /v1/schemas/{subject}`` serves (None for an unknown subject)."""
    schema = _published().get(subject)
    return None if schema is None else copy.deepcopy(schema)
