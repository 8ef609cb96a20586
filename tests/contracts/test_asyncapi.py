"""The committed AsyncAPI document and per-subject JSON Schemas are what the services' brokers
declare and the event models accept: real payloads, headers, stream, and examples that
validate."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import ValidationError

from relay_cli import asyncapi_doc
from relay_shared import event_schemas, subjects
from relay_shared.events import EVENT_TYPES

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / asyncapi_doc.DEFAULT_PATH
SCHEMAS = REPO / asyncapi_doc.DEFAULT_SCHEMAS_DIR


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return document


def _component_validator(document: dict[str, Any], ref: str) -> Draft202012Validator:
    """A validator of the component ``ref`` points at, its own refs resolved in place."""
    return Draft202012Validator({"$ref": ref, "components": document["components"]})


def _subject_of(document: dict[str, Any], message_name: str) -> str:
    for channel in document["channels"].values():
        for message in channel["messages"].values():
            if message["$ref"].endswith(f"/{message_name}"):
                address: str = channel["address"]
                return address
    raise AssertionError(f"{message_name} is on no channel")


def test_committed_document_and_schemas_are_current() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == asyncapi_doc.render(), (
        "shared/asyncapi.json is stale: run `relay asyncapi` and commit it"
    )
    assert asyncapi_doc.problems(DOCUMENT, SCHEMAS) == []
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(
        f"{subject}.json" for subject in subjects.PIPELINE_SUBJECTS
    )


def test_every_pipeline_subject_is_documented_with_its_payload() -> None:
    document = _document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(subjects.PIPELINE_SUBJECTS)
    schemas = document["components"]["schemas"]
    assert "EmptyPayload" not in schemas
    for name in ("RunRequested", "FeedReceived", "RowsNormalized", "OffersMerged", "RunFailed"):
        assert {"event_id", "occurred_at", "tenant_id", "correlation_id"} <= set(
            schemas[name]["properties"]
        ), name


def test_every_message_sends_and_receives_its_subjects_model_with_headers() -> None:
    document = _document()
    messages = document["components"]["messages"]
    receiving = [name for name in messages if name.endswith(":SubscribeMessage")]
    assert len(receiving) >= len(subjects.PIPELINE_SUBJECTS) // 2
    for name, message in messages.items():
        model = EVENT_TYPES[_subject_of(document, name)].__name__
        assert message["payload"] == {"$ref": f"#/components/schemas/{model}"}, name
        assert message["headers"] == {"$ref": "#/components/schemas/EventHeaders"}, name
        assert message["correlationId"]["location"] == "$message.payload#/correlation_id"
    headers = document["components"]["schemas"]["EventHeaders"]
    assert headers["required"] == ["Nats-Msg-Id"]
    assert {"Nats-Msg-Id", "X-Correlation-ID", "traceparent"} <= set(headers["properties"])
    for channel in document["channels"].values():
        assert channel["x-nats-stream"] == "RELAY"
        assert channel["x-dead-letter-subject"] == f"dlq.{channel['address']}"


def test_every_example_validates_against_its_schemas_and_its_model() -> None:
    document = _document()
    checked = set()
    for name, message in document["components"]["messages"].items():
        subject = _subject_of(document, name)
        [example] = message["examples"]
        payload_errors = list(
            _component_validator(document, message["payload"]["$ref"]).iter_errors(
                example["payload"]
            )
        )
        header_errors = list(
            _component_validator(document, message["headers"]["$ref"]).iter_errors(
                example["headers"]
            )
        )
        assert (payload_errors, header_errors) == ([], []), name
        assert example["headers"]["Nats-Msg-Id"] == example["payload"]["event_id"]
        file_schema = json.loads((SCHEMAS / f"{subject}.json").read_text(encoding="utf-8"))
        assert list(Draft202012Validator(file_schema).iter_errors(example["payload"])) == []
        model = EVENT_TYPES[subject].model_validate(example["payload"])
        assert model.model_dump(mode="json") == example["payload"]
        checked.add(subject)
    assert checked == set(subjects.PIPELINE_SUBJECTS)


def _feed_example() -> dict[str, Any]:
    document = _document()
    message = document["components"]["messages"]["feed.received:normalize:SubscribeMessage"]
    payload: dict[str, Any] = message["examples"][0]["payload"]
    return payload


@pytest.mark.parametrize(
    "change",
    [
        {"vendor_id": None},
        {"config_version": 0},
        {"event_id": ""},
        {"unknown_field": 1},
        {"schema_version": 2},
        {"run_vendors": "supplier-a"},
    ],
    ids=["null vendor", "version 0", "empty id", "extra field", "version 2", "not a list"],
)
def test_the_schema_file_refuses_what_the_model_refuses(change: dict[str, Any]) -> None:
    schema = event_schemas.standalone_schema(subjects.FEED_RECEIVED)
    payload = {**_feed_example(), **change}
    assert list(Draft202012Validator(schema).iter_errors(payload)) != []
    with pytest.raises(ValidationError):
        EVENT_TYPES[subjects.FEED_RECEIVED].model_validate(payload)


def test_every_subject_has_the_shape_the_gateway_serves() -> None:
    for subject in subjects.PIPELINE_SUBJECTS:
        assert re.fullmatch(event_schemas.SUBJECT_PATTERN, subject), subject


def test_the_schema_file_leaves_out_what_a_publisher_cannot_send() -> None:
    schema = event_schemas.standalone_schema(subjects.FEED_RECEIVED)
    assert "subject" not in schema["properties"]
    assert set(schema["required"]) == {
        "event_id",
        "occurred_at",
        "tenant_id",
        "correlation_id",
        "vendor_id",
        "config_version",
        "key",
        "as_of",
    }
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def _relay(*args: str) -> subprocess.CompletedProcess[str]:
    """``relay ARGS`` as its own process (the command CI runs)."""
    return subprocess.run(
        [sys.executable, "-m", "relay_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_names_each_stale_missing_or_foreign_file(tmp_path: Path) -> None:
    document, schemas = tmp_path / "asyncapi.json", tmp_path / "schemas"
    shutil.copy(DOCUMENT, document)
    shutil.copytree(SCHEMAS, schemas)
    stale = schemas / "feed.received.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace('"minimum": 1', '"minimum": 0'))
    (schemas / "run.failed.json").unlink()
    (schemas / "feed.dropped.json").write_text("{}\n")

    checked = _relay("asyncapi", "--check", "--out", str(document), "--schemas", str(schemas))

    assert checked.returncode == 1
    assert checked.stderr.splitlines() == [
        f"{schemas / 'feed.dropped.json'} is not generated any more (no such subject): "
        "run `relay asyncapi` and commit it",
        f"{stale} is stale: run `relay asyncapi` and commit it",
        f"{schemas / 'run.failed.json'} is missing: run `relay asyncapi` and commit it",
    ]
    asyncapi_doc.write(document, schemas)
    assert asyncapi_doc.problems(document, schemas) == []
    assert not (schemas / "feed.dropped.json").exists()
