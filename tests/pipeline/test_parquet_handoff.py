"""Normalize hands pricing each vendor's rows as Parquet (``rows.normalized``'s
``handoff_key``) beside the merchants' normalized CSV, on real JetStream, Postgres and S3.
Pricing reads the Parquet only; an event without the key (sent before there was one) is read
from the CSV. Both merge to the same bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_pricing.adapters.normalized_offers import read_offers, read_offers_parquet
from relay_shared import keys, subjects
from relay_shared.events import RowsNormalized, stage_event_id
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, nats_client, publish, run_outcome
from tests.support.pipeline_runs import V1, V2, request_run, seed_tenant, tenant_config
from tests.support.running import running_pipeline

STREAM = "RELAYPQ"
MERGED = (
    b"sku,quantity_available,price,vendor_id,updated_at\n"
    b"A-1,3,10.80,v2,2026-01-01T00:00:00Z\n"
    b"B-2,4,30.00,v2,2026-01-01T00:00:00Z\n"
    b"C-3,1,6.00,v2,2026-01-01T00:00:00Z\n"
)
NOT_ROWS = b"this object is not the vendor's rows\n"


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    async with running_pipeline(isolated_bus, STREAM):
        yield


async def _run(stack: StackEndpoints, store: ObjectStore, tenant: str, run_id: str) -> list[Any]:
    """Runs V1 and V2 through the pipeline; their rows.normalized events (by vendor)."""
    await seed_tenant(store, tenant, {"v1": V1, "v2": V2}, tenant_config(tenant))
    async with nats_client(stack.nats_url) as client:
        await request_run(client, STREAM, tenant, run_id)
        merged = await run_outcome(client, STREAM, run_id)
        assert merged["event_id"] == f"offers.merged:{run_id}"
        seen: dict[str, dict[str, Any]] = {}

        def both(event: dict[str, Any]) -> bool:
            if event["scope_id"] == run_id:
                seen[event["vendor_id"]] = event
            return len(seen) == 2

        await collect(client, STREAM, subjects.ROWS_NORMALIZED, until=both)
    return [RowsNormalized.model_validate(seen[vendor]) for vendor in ("v1", "v2")]


async def test_normalize_stores_parquet_beside_the_csv_and_pricing_merges_it(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    events = await _run(isolated_bus, object_store, tenant, run_id)
    for event in events:
        csv_key = keys.normalized_key(tenant, event.vendor_id, run_id)
        assert event.normalized_key == csv_key
        assert event.handoff_key == csv_key.removesuffix(".csv") + ".parquet"
        csv = await object_store.get_bytes(csv_key)
        parquet = await object_store.get_bytes(event.handoff_key)
        assert read_offers_parquet(parquet).equals(read_offers(csv))
    v1_csv = await object_store.get_bytes(keys.normalized_key(tenant, "v1", run_id))
    assert v1_csv == (  # the merchants' normalized CSV, byte for byte as before
        b"sku,vendor_sku,vendor_id,quantity_available,lead_time_days,cost,map_price,msrp,"
        b"condition,brand,title,updated_at\n"
        b"A-1,A-1,v1,5,,10.00,,,new,,,2026-01-01T00:00:00Z\n"
        b"B-2,B-2,v1,0,,20.00,,,new,,,2026-01-01T00:00:00Z\n"
    )
    merged_key = keys.output_key(tenant, run_id, "merged_inventory.csv")
    assert await object_store.get_bytes(merged_key) == MERGED


async def _replay_as(
    stack: StackEndpoints,
    store: ObjectStore,
    events: list[RowsNormalized],
    scope: str,
    *,
    with_handoff: bool,
) -> bytes:
    """The run's results again under a new scope, staged at the new scope's keys: with the
    Parquet hand-off and a CSV that is not rows, or (an event from before the hand-off) with
    no handoff_key and a Parquet object that is not rows. The merged feed pricing writes."""
    tenant = events[0].tenant_id
    async with nats_client(stack.nats_url) as client:
        for event in events:
            assert event.normalized_key is not None
            assert event.handoff_key is not None
            csv_key = keys.normalized_key(tenant, event.vendor_id, scope)
            parquet_key = csv_key.removesuffix(".csv") + ".parquet"
            csv, parquet = (
                (NOT_ROWS, await store.get_bytes(event.handoff_key))
                if with_handoff
                else (await store.get_bytes(event.normalized_key), NOT_ROWS)
            )
            await store.put_bytes(csv_key, csv)
            await store.put_bytes(parquet_key, parquet)
            update = {
                "event_id": stage_event_id(subjects.ROWS_NORMALIZED, scope, event.vendor_id),
                "run_id": scope,
                "scope_id": scope,
                "normalized_key": csv_key,
                "handoff_key": parquet_key if with_handoff else None,
                "force": True,  # the drift guard has the first run's baselines
            }
            await publish(client, STREAM, event.model_copy(update=update))
        outcome = await run_outcome(client, STREAM, scope)
    assert outcome["event_id"] == f"offers.merged:{scope}"
    return await store.get_bytes(keys.output_key(tenant, scope, "merged_inventory.csv"))


async def test_pricing_reads_the_parquet_only_and_an_old_event_from_the_csv(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    events = await _run(isolated_bus, object_store, tenant, run_id)
    from_parquet = await _replay_as(
        isolated_bus, object_store, events, f"pq_{unique_id}", with_handoff=True
    )
    from_csv = await _replay_as(
        isolated_bus, object_store, events, f"csv_{unique_id}", with_handoff=False
    )
    assert from_parquet == MERGED
    assert from_csv == MERGED
