"""Run tracking: the pipeline's events move a run through its stages to its outcome, and
events that arrive after the outcome change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import pytest

from relay_shared import keys, subjects
from relay_shared.events import (
    FeedReceived,
    OffersMerged,
    RowsNormalized,
    RunFailed,
    VendorCounts,
    stage_event_id,
)
from tests.gateway.harness import (
    STREAM,
    Gateway,
    auth,
    create_tenant,
    eventually,
    publish,
    put_config,
)

pytestmark = pytest.mark.stack


@dataclass(frozen=True)
class Progress:
    """The run as ``GET /v1/runs/{id}`` showed it at each step."""

    queued: dict[str, Any]
    running: dict[str, Any]
    merging: dict[str, Any]
    done: dict[str, Any]


async def _queued_run(gateway: Gateway, tenant_id: str) -> tuple[str, str]:
    """The tenant's owner key and a run it requested."""
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    response = await gateway.client.post("/v1/runs", json={}, headers=auth(owner))
    assert response.status == 202, await response.text()
    run_id: str = (await response.json())["run_id"]
    return owner, run_id


async def _get_run(gateway: Gateway, key: str, run_id: str) -> dict[str, Any]:
    response = await gateway.client.get(f"/v1/runs/{run_id}", headers=auth(key))
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def _until(gateway: Gateway, key: str, run_id: str, test: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        run = await _get_run(gateway, key, run_id)
        return run if test(run) else None

    return await eventually(probe)


def _counts(rows: int) -> VendorCounts:
    return VendorCounts(rows=rows, accepted=rows - 1, rejected=1, duplicates=0)


def _common(tenant_id: str, run_id: str) -> dict[str, Any]:
    return {
        "occurred_at": datetime.now(UTC),
        "tenant_id": tenant_id,
        "correlation_id": "c",
        "run_id": run_id,
    }


def _rows_normalized(
    common: dict[str, Any], vendor: str, status: str, rows: int, event_id: str
) -> RowsNormalized:
    return RowsNormalized(
        event_id=event_id,
        vendor_id=vendor,
        scope_id=common["run_id"],
        config_version=1,
        status=status,
        normalized_key="n" if status == "ok" else None,
        findings_key="f",
        counts=_counts(rows),
        as_of=common["occurred_at"],
        **common,
    )


async def _drive_to_success(gateway: Gateway, tenant_id: str) -> tuple[str, str, Progress]:
    """Two feeds received, acme normalized, the run merged: owner key, run id, progress."""
    owner, run_id = await _queued_run(gateway, tenant_id)
    common = _common(tenant_id, run_id)
    queued = await _get_run(gateway, owner, run_id)
    for vendor in ("acme", "globex"):
        feed = FeedReceived(
            event_id=stage_event_id(subjects.FEED_RECEIVED, run_id, vendor),
            vendor_id=vendor,
            config_version=1,
            key=f"k/{vendor}",
            as_of=common["occurred_at"],
            **common,
        )
        await publish(gateway.nats_url, feed)
    running = await _until(gateway, owner, run_id, lambda r: len(r["vendors"]) == 2)
    acme_id = stage_event_id(subjects.ROWS_NORMALIZED, run_id, "acme")
    await publish(gateway.nats_url, _rows_normalized(common, "acme", "ok", 10, acme_id))
    merging = await _until(gateway, owner, run_id, lambda r: r["stage"] == "merge")
    merged = OffersMerged(
        event_id=stage_event_id(subjects.OFFERS_MERGED, run_id),
        config_version=1,
        merged_key="m",
        summary_key="s",
        errors_key="e",
        merged_rows=15,
        skus_left_out=2,
        vendors={"acme": _counts(10), "globex": _counts(6)},
        **common,
    )
    await publish(gateway.nats_url, merged)
    done = await _until(gateway, owner, run_id, lambda r: r["status"] == "SUCCEEDED")
    return owner, run_id, Progress(queued, running, merging, done)


def _vendor(status: str, rows: int, accepted: int, rejected: int) -> dict[str, Any]:
    return {
        "status": status,
        "rows": rows,
        "accepted": accepted,
        "rejected": rejected,
        "duplicates": 0,
    }


async def test_pipeline_events_move_the_run_to_succeeded(gateway: Gateway, unique_id: str) -> None:
    _, run_id, progress = await _drive_to_success(gateway, f"t-{unique_id}")
    queued, running, merging, done = (
        progress.queued,
        progress.running,
        progress.merging,
        progress.done,
    )

    assert queued == {
        "run_id": run_id,
        "tenant_id": f"t-{unique_id}",
        "status": "QUEUED",
        "stage": "queued",
        "config_version": 1,
        "requested_at": queued["requested_at"],
        "started_at": None,
        "finished_at": None,
        "vendors": {},
        "counts": {"merged_rows": None, "skus_left_out": None},
        "error": None,
        "timings": {**queued["timings"], "ingest_ms": None, "normalize_ms": None, "merge_ms": None},
        "attempts": {},
    }
    assert queued["timings"]["queued_ms"] >= 0
    assert (running["status"], running["stage"]) == ("RUNNING", "normalize")
    assert running["vendors"]["acme"] == _vendor("pending", 0, 0, 0)
    assert merging["vendors"]["acme"] == _vendor("ok", 10, 9, 1)
    assert done["stage"] == "done"
    assert done["counts"] == {"merged_rows": 15, "skus_left_out": 2}
    assert done["vendors"]["globex"] == _vendor("pending", 6, 5, 1)
    assert done["error"] is None
    requested, started, finished = (
        datetime.fromisoformat(done[field])
        for field in ("requested_at", "started_at", "finished_at")
    )
    assert requested <= started <= finished


async def test_events_after_the_outcome_change_nothing(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner, run_id, progress = await _drive_to_success(gateway, tenant_id)
    common = _common(tenant_id, run_id)

    late_failure = RunFailed(
        event_id=stage_event_id(subjects.RUN_FAILED, run_id),
        stage="price",
        code="late",
        message="too late",
        **common,
    )
    await publish(gateway.nats_url, late_failure)
    late_id = stage_event_id(subjects.ROWS_NORMALIZED, run_id, "globex") + ":late"
    await publish(gateway.nats_url, _rows_normalized(common, "globex", "failed", 99, late_id))
    await _drained(gateway.nats_url, subjects.RUN_FAILED, subjects.ROWS_NORMALIZED)

    assert await _get_run(gateway, owner, run_id) == progress.done


async def test_run_failed_records_the_error(gateway: Gateway, unique_id: str) -> None:
    tenant_id = f"t-{unique_id}"
    owner, run_id = await _queued_run(gateway, tenant_id)
    report = keys.report_key(tenant_id, run_id, "errors.json")

    await publish(
        gateway.nats_url,
        RunFailed(
            event_id=stage_event_id(subjects.RUN_FAILED, run_id),
            stage="normalize",
            code="too_many_invalid_rows",
            message="acme: 40% invalid",
            report_key=report,
            **_common(tenant_id, run_id),
        ),
    )
    failed = await _until(gateway, owner, run_id, lambda r: r["status"] == "FAILED")

    assert failed["stage"] == "normalize"
    assert failed["error"] == {
        "code": "too_many_invalid_rows",
        "message": "acme: 40% invalid",
        "report_key": report,
    }


async def _drained(nats_url: str, *subject_names: str) -> None:
    """Until the gateway's durable consumers of ``subject_names`` have nothing pending or
    unacked (the late events were handled, not merely not yet read)."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()

        async def empty() -> bool | None:
            for subject in subject_names:
                info = await js.consumer_info(STREAM, subjects.durable_name("gateway", subject))
                if info.num_pending or info.num_ack_pending:
                    return None
            return True

        await eventually(empty)
    finally:
        await client.close()
