"""Event contracts: required envelope, deterministic ids, strictness."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from relay_shared import subjects
from relay_shared.bus.publishing import subject_of
from relay_shared.events import EVENT_TYPES, RunRequested, stage_event_id

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_every_subject_has_one_model_whose_subject_matches() -> None:
    assert set(EVENT_TYPES) == set(subjects.PIPELINE_SUBJECTS)
    for subject, model in EVENT_TYPES.items():
        assert subject_of(model) == subject


def test_subject_is_not_serialized_and_envelope_round_trips() -> None:
    event = RunRequested(
        event_id="run.requested:r1",
        occurred_at=AT,
        tenant_id="t1",
        correlation_id="c1",
        run_id="r1",
        config_version=3,
    )
    body = event.model_dump_json()
    assert "subject" not in body
    assert RunRequested.model_validate_json(body) == event
    assert body.startswith('{"schema_version":1,"event_id":"run.requested:r1"')


def test_naive_timestamps_and_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        RunRequested(
            event_id="e",
            occurred_at=datetime(2026, 1, 1),
            tenant_id="t",
            correlation_id="c",
            run_id="r",
            config_version=1,
        )
    with pytest.raises(ValidationError, match="extra"):
        RunRequested.model_validate(
            {
                "event_id": "e",
                "occurred_at": "2026-01-01T00:00:00Z",
                "tenant_id": "t",
                "correlation_id": "c",
                "run_id": "r",
                "config_version": 1,
                "customer_email": "x@example.com",
            }
        )


def test_stage_event_ids_are_deterministic() -> None:
    assert (
        stage_event_id("rows.normalized", "run_1", "vendor_2") == "rows.normalized:run_1:vendor_2"
    )
