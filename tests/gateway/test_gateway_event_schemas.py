"""``GET /v1/schemas/{subject}`` serves the committed JSON Schema of each subject, to anyone;
an unknown subject is a 404."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relay_shared import subjects
from relay_shared.event_schemas import SUBJECT_PATTERN
from tests.gateway.harness import Gateway

pytestmark = pytest.mark.stack
SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"


async def test_every_subject_is_served_as_committed_without_credentials(gateway: Gateway) -> None:
    for subject in subjects.PIPELINE_SUBJECTS:
        response = await gateway.client.get(f"/v1/schemas/{subject}")
        committed = json.loads((SCHEMAS / f"{subject}.json").read_text(encoding="utf-8"))

        assert response.status == 200, subject
        assert response.content_type == "application/schema+json"
        assert json.loads(await response.text()) == committed, subject


async def test_an_unknown_subject_is_404(gateway: Gateway) -> None:
    for subject in ("feed.receive", "dlq.feed.received", "FEED.RECEIVED", "feed..received"):
        response = await gateway.client.get(f"/v1/schemas/{subject}")

        assert response.status == 404, subject
        assert await response.json() == {
            "error": {
                "code": "not_found",
                "message": "no such subject",
                "details": {},
            }
        }


async def test_the_route_is_documented_as_public(gateway: Gateway) -> None:
    document = await (await gateway.client.get("/v1/openapi.json")).json()
    operation = document["paths"]["/v1/schemas/{subject}"]["get"]

    assert operation["security"] == []
    assert sorted(operation["responses"]) == ["200", "400", "404", "503"]
    [parameter] = operation["parameters"]
    assert parameter["name"] == "subject"
    assert parameter["schema"]["pattern"] == SUBJECT_PATTERN
