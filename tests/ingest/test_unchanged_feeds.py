"""Unchanged feeds through the running pipeline (ingest, normalize, pricing on real JetStream,
Postgres and S3): a vendor's feed whose bytes equal its last normalized feed (same config, same
SKU map) is not normalized again: its ``rows.normalized`` says ``unchanged`` and points at the
earlier normalized rows, and the merge is the same. Other bytes, or a config that changes how
the vendor is normalized, normalize it again. A feed older than the vendor's
``freshness_max_age_h`` at the run's as-of is ``stale_feed``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import RunRequested
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, nats_client, publish, run_outcome
from tests.support.pipeline_runs import AS_OF, V1, V2, request_run, tenant_config
from tests.support.running import running_pipeline

pytestmark = pytest.mark.stack
STREAM = "UNCHANGED"


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    async with running_pipeline(isolated_bus, STREAM):
        yield


async def _run(
    client: Client,
    store: ObjectStore,
    tenant_id: str,
    run_id: str,
    feeds: dict[str, bytes],
    config_version: int = 1,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Upload ``feeds`` (a new upload each), run, and return (outcome, rows.normalized by
    vendor)."""
    for vendor, body in feeds.items():
        await store.put_bytes(keys.inbound_key(tenant_id, vendor, AS_OF, run_id, "csv"), body)
    await request_run(client, STREAM, tenant_id, run_id, config_version=config_version)
    outcome = await run_outcome(client, STREAM, run_id, timeout=60.0)
    normalized: dict[str, dict[str, Any]] = {}

    def both(event: dict[str, Any]) -> bool:
        if event.get("scope_id") == run_id:
            normalized[event["vendor_id"]] = event
        return len(normalized) == 2

    await collect(client, STREAM, subjects.ROWS_NORMALIZED, until=both, timeout=30.0)
    return outcome, normalized


@pytest.mark.usefixtures("pipeline")
async def test_an_unchanged_feed_is_not_normalized_again(
    isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"same-{unique_id}"
    configs = TenantConfigStore(object_store)
    config = tenant_config(tenant_id)
    await configs.save(tenant_id, 1, config)
    first_id, second_id, third_id, fourth_id = (f"run-{n}-{unique_id}" for n in range(4))
    v1_changed = V1 + b"C-3,2,4.00\n"
    async with nats_client(isolated_bus.nats_url) as client:
        first, first_rows = await _run(
            client, object_store, tenant_id, first_id, {"v1": V1, "v2": V2}
        )
        second, second_rows = await _run(
            client, object_store, tenant_id, second_id, {"v1": V1, "v2": V2}
        )
        third, third_rows = await _run(
            client, object_store, tenant_id, third_id, {"v1": v1_changed, "v2": V2}
        )
        config["vendors"][1]["parser"]["quantity_words"] = {"ten": 10}
        await configs.save(tenant_id, 2, config)
        fourth, fourth_rows = await _run(
            client, object_store, tenant_id, fourth_id, {"v1": v1_changed, "v2": V2}, 2
        )

    assert {v: e["status"] for v, e in first_rows.items()} == {"v1": "ok", "v2": "ok"}
    assert {v: e["status"] for v, e in second_rows.items()} == {
        "v1": "unchanged",
        "v2": "unchanged",
    }
    for vendor in ("v1", "v2"):
        assert second_rows[vendor]["normalized_key"] == first_rows[vendor]["normalized_key"]
        assert second_rows[vendor]["counts"] == first_rows[vendor]["counts"]
        assert second_rows[vendor]["findings_key"] == keys.findings_key(
            tenant_id, vendor, second_id
        )
    assert not await object_store.exists(keys.normalized_key(tenant_id, "v1", second_id))
    assert first_rows["v2"]["counts"]["sha256"] == hashlib.sha256(V2).hexdigest()
    assert (first["merged_rows"], second["merged_rows"]) == (3, 3)
    assert await object_store.get_bytes(second["merged_key"]) == await object_store.get_bytes(
        first["merged_key"]
    )

    assert await _summary_statuses(object_store, first) == {"v1": "ok", "v2": "ok"}
    assert await _summary_statuses(object_store, second) == {
        "v1": "unchanged",
        "v2": "unchanged",
    }

    assert {v: e["status"] for v, e in third_rows.items()} == {"v1": "ok", "v2": "unchanged"}
    assert await _summary_statuses(object_store, third) == {"v1": "ok", "v2": "unchanged"}
    assert third_rows["v1"]["normalized_key"] == keys.normalized_key(tenant_id, "v1", third_id)
    assert third["merged_rows"] == 3

    # v2's parser changed (v1's did not): only v2 is normalized again
    assert {v: e["status"] for v, e in fourth_rows.items()} == {"v1": "unchanged", "v2": "ok"}
    assert fourth_rows["v1"]["normalized_key"] == third_rows["v1"]["normalized_key"]
    assert (fourth_rows["v2"]["counts"]["accepted"], fourth_rows["v2"]["counts"]["rejected"]) == (
        4,
        0,
    )
    assert fourth["merged_rows"] == 4


async def _summary_statuses(store: ObjectStore, merged: dict[str, Any]) -> dict[str, str]:
    """Each vendor's status in the run's run_summary.json."""
    summary = json.loads(await store.get_bytes(merged["summary_key"]))
    return {vendor: line["status"] for vendor, line in summary["vendors"].items()}


async def _run_as_of(client: Client, tenant_id: str, run_id: str, as_of: datetime) -> None:
    event = RunRequested(
        event_id=f"run.requested:{run_id}",
        occurred_at=as_of,
        tenant_id=tenant_id,
        correlation_id=f"corr-{run_id}",
        run_id=run_id,
        config_version=1,
    )
    await publish(client, STREAM, event)


@pytest.mark.usefixtures("pipeline")
async def test_a_feed_older_than_the_vendors_freshness_is_left_out_or_fails_the_run(
    isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    """v2 (optional, at most 1 h old) is left out; then v1 (required, at most 1 h old)
    fails the run: both with ``stale_feed``, measured at the run's as-of."""
    later = datetime.now(UTC) + timedelta(hours=2)
    outcomes = {}
    for case, stale in (("optional", 1), ("required", 0)):
        tenant_id, run_id = f"stale-{case}-{unique_id}", f"run-stale-{case}-{unique_id}"
        config = tenant_config(tenant_id)
        config["vendors"][1]["required"] = False
        config["vendors"][stale]["freshness_max_age_h"] = 1
        await TenantConfigStore(object_store).save(tenant_id, 1, config)
        for vendor, body in (("v1", V1), ("v2", V2)):
            key = keys.inbound_key(tenant_id, vendor, AS_OF, run_id, "csv")
            await object_store.put_bytes(key, body)
        async with nats_client(isolated_bus.nats_url) as client:
            await _run_as_of(client, tenant_id, run_id, later)
            outcomes[case] = await run_outcome(client, STREAM, run_id, timeout=60.0)

    optional, required = outcomes["optional"], outcomes["required"]
    assert optional["event_id"].startswith("offers.merged:")
    assert optional["merged_rows"] == 2
    errors = json.loads(await object_store.get_bytes(optional["errors_key"]))
    [skipped] = [w for w in errors["warnings"] if w["code"] == "vendor_skipped"]
    assert (skipped["vendor_id"], skipped["value"]) == ("v2", "stale_feed")
    assert [(e["vendor_id"], e["code"]) for e in errors["errors"]] == [("v2", "stale_feed")]
    assert required["event_id"].startswith("run.failed:")
    report = json.loads(await object_store.get_bytes(required["report_key"]))
    assert [(e["vendor_id"], e["code"]) for e in report["errors"]] == [
        ("v1", "stale_feed"),
        ("v2", "invalid_quantity"),  # v2's row D-4 (quantity "ten"): the report is complete
    ]
    assert report["errors"][0]["message"].endswith("older than freshness_max_age_h 1")
