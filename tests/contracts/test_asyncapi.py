"""The committed AsyncAPI document is what the services' brokers declare."""

from __future__ import annotations

import json
from pathlib import Path

from relay_cli import asyncapi_doc
from relay_shared import subjects

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / asyncapi_doc.DEFAULT_PATH


def test_committed_document_is_current() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == asyncapi_doc.render(), (
        "shared/asyncapi.json is stale: run `relay asyncapi` and commit it"
    )


def test_every_pipeline_subject_is_documented_with_its_payload() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(subjects.PIPELINE_SUBJECTS)
    schemas = document["components"]["schemas"]
    for name in ("RunRequested", "FeedReceived", "RowsNormalized", "OffersMerged", "RunFailed"):
        assert {"event_id", "occurred_at", "tenant_id", "correlation_id"} <= set(
            schemas[name]["properties"]
        ), name
