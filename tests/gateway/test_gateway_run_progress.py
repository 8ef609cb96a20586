"""Run progress: per-stage timings and attempts from the pipeline events the gateway saw,
and the stuck-run sweep (``timeout``) that frees the tenant's slot for queued runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.events import (
    Event,
    FeedReceived,
    OffersMerged,
    RowsNormalized,
    VendorCounts,
    stage_event_id,
)
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import (
    Gateway,
    auth,
    create_tenant,
    eventually,
    publish,
    put_config,
    watch,
)

pytestmark = pytest.mark.stack
STUCK_AFTER_S = 2.5


@pytest.fixture(scope="module")
async def impatient_gateway(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    """A gateway that fails runs idle for 2.5 s and runs one run per tenant at a time."""
    async with serving_gateway(
        isolated_bus,
        tmp_path_factory.mktemp("gateway"),
        run_stuck_after_s=STUCK_AFTER_S,
        run_stuck_sweep_s=0.2,
        run_concurrency_cap=1,
    ) as served:
        yield served


async def _run(gateway: Gateway, key: str) -> str:
    response = await gateway.client.post("/v1/runs", json={}, headers=auth(key))
    assert response.status == 202, await response.text()
    run_id: str = (await response.json())["run_id"]
    return run_id


async def _get(gateway: Gateway, key: str, run_id: str) -> dict[str, Any]:
    response = await gateway.client.get(f"/v1/runs/{run_id}", headers=auth(key))
    body: dict[str, Any] = await response.json()
    return body


def _stages(tenant_id: str, run_id: str) -> list[Event]:
    now = datetime.now(UTC)
    common: dict[str, Any] = {
        "occurred_at": now,
        "tenant_id": tenant_id,
        "correlation_id": "c",
        "run_id": run_id,
        "config_version": 1,
    }
    counts = VendorCounts(rows=2, accepted=2)
    return [
        FeedReceived(
            event_id=stage_event_id(subjects.FEED_RECEIVED, run_id, "acme"),
            vendor_id="acme",
            key="k",
            as_of=now,
            **common,
        ),
        RowsNormalized(
            event_id=stage_event_id(subjects.ROWS_NORMALIZED, run_id, "acme"),
            vendor_id="acme",
            scope_id=run_id,
            status="ok",
            normalized_key="n",
            findings_key="f",
            counts=counts,
            as_of=now,
            **common,
        ),
        OffersMerged(
            event_id=stage_event_id(subjects.OFFERS_MERGED, run_id),
            merged_key="m",
            summary_key="s",
            errors_key="e",
            merged_rows=2,
            skus_left_out=0,
            vendors={"acme": counts},
            **common,
        ),
    ]


async def test_a_run_shows_stage_timings_and_attempts(
    impatient_gateway: Gateway, unique_id: str
) -> None:
    gateway, tenant_id = impatient_gateway, f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)
    run_id = await _run(gateway, owner)
    feed, normalized, merged = _stages(tenant_id, run_id)

    await publish(gateway.nats_url, feed)
    # the same event again under another Nats-Msg-Id: a stage that re-emitted its result
    await publish(gateway.nats_url, feed, msg_id=f"again:{feed.event_id}")
    await publish(gateway.nats_url, normalized)

    async def both_feeds_seen() -> dict[str, Any] | None:
        run = await _get(gateway, owner, run_id)
        return run if run["attempts"] == {"ingest": 2, "normalize": 1} else None

    await eventually(both_feeds_seen)
    await publish(gateway.nats_url, merged)
    done = await eventually(
        lambda: _when_status(gateway, owner, run_id, "SUCCEEDED"), deadline_s=10.0
    )

    assert done["attempts"] == {"ingest": 2, "normalize": 1, "merge": 1}
    assert sorted(done["timings"]) == ["ingest_ms", "merge_ms", "normalize_ms", "queued_ms"]
    assert all(isinstance(ms, int) and ms >= 0 for ms in done["timings"].values())


async def _when_status(
    gateway: Gateway, key: str, run_id: str, status: str
) -> dict[str, Any] | None:
    run = await _get(gateway, key, run_id)
    return run if run["status"] == status else None


async def test_a_stuck_run_times_out_and_frees_the_slot(
    impatient_gateway: Gateway, unique_id: str
) -> None:
    gateway, tenant_id = impatient_gateway, f"t-{unique_id}"
    owner = await create_tenant(gateway, tenant_id)
    await put_config(gateway, tenant_id, owner)

    async with watch(gateway.nats_url, subjects.RUN_REQUESTED) as requested:
        stuck = await _run(gateway, owner)
        waiting = await _run(gateway, owner)
        first, _ = await requested.next_matching(lambda e: e["tenant_id"] == tenant_id)
        queued = await _get(gateway, owner, waiting)
        failed = await eventually(
            lambda: _when_status(gateway, owner, stuck, "FAILED"), deadline_s=STUCK_AFTER_S + 10
        )
        second, _ = await requested.next_matching(lambda e: e["tenant_id"] == tenant_id)

    assert (first["run_id"], second["run_id"]) == (stuck, waiting)
    assert queued["status"] == "QUEUED"
    assert failed["stage"] == "queued"
    assert failed["error"]["code"] == "timeout"
    assert failed["error"]["report_key"] is None
    assert failed["finished_at"] is not None
