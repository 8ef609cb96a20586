"""The explain index through the real services (ingest → normalize → pricing on JetStream,
Postgres, S3): pricing stores it with the run, normalize the index of each feed's rows as
read, and a lookup (the gateway's reader) answers from them with the run's own numbers and
rows, and tells a SKU rejected on a non-SKU column from an absent one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import keys
from relay_shared.explain.answer import SourceRow
from relay_shared.explain.reader import ExplainReader, SkuNotInRun
from relay_shared.storage import ObjectStore
from tests.support.jetstream import nats_client, run_outcome
from tests.support.pipeline_runs import V1, V2, request_run, seed_tenant, tenant_config
from tests.support.running import running_pipeline

STREAM = "RELAY"


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    async with running_pipeline(isolated_bus, STREAM):
        yield


async def test_pricing_stores_the_index_and_a_lookup_explains_a_sku(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await seed_tenant(object_store, tenant, {"v1": V1, "v2": V2}, tenant_config(tenant))
    async with nats_client(isolated_bus.nats_url) as client:
        await request_run(client, STREAM, tenant, run_id)
        merged = await run_outcome(client, STREAM, run_id)
    reader = ExplainReader(object_store)

    answer = await reader.explain(tenant, run_id, "A-1")
    with pytest.raises(SkuNotInRun) as absent:
        await reader.explain(tenant, run_id, "Z-9")
    with pytest.raises(SkuNotInRun) as rejected:
        await reader.explain(tenant, run_id, "D-4")

    assert merged["merged_rows"] == 3
    csv = await object_store.get_bytes(keys.output_key(tenant, run_id, "merged_inventory.csv"))
    assert b"A-1,3,10.80,v2," in csv
    assert (answer.run_id, answer.tenant_id, answer.config_version) == (run_id, tenant, 1)
    assert [(o.vendor_id, o.as_normalized["cost"], o.winner) for o in answer.offers] == [
        ("v1", 1000, False),
        ("v2", 900, True),
    ]
    assert (answer.merge.winner, answer.merge.decided_by) == ("v2", "lowest_landed_cost")
    assert [(s.step, s.input_cents, s.output_cents) for s in answer.steps] == [
        ("shipping", 900, 900),
        ("base_margin", 900, 1080),
        ("min_price", 1080, 1080),
        ("rounding", 1080, 1080),
        ("map_floor", 1080, 1080),
    ]
    assert answer.price_cents == 1080
    assert [(o.vendor_id, o.as_read) for o in answer.offers] == [
        ("v1", SourceRow(row=2, cells={"SKU": "A-1", "QTY": "5", "COST": "10.00"})),
        ("v2", SourceRow(row=2, cells={"Item": "A-1", "Stock": "3", "Price": "9.00"})),
    ]
    assert absent.value.answer.status == "never_present"
    assert rejected.value.answer.model_dump(mode="json") == {
        "sku": "D-4",
        "status": "rejected",
        "message": "SKU D-4 was rejected by normalize: invalid_quantity",
        "findings": [
            {
                "vendor_id": "v2",
                "row": 5,
                "column": "quantity_available",
                "code": "invalid_quantity",
                "message": "the quantity is not a whole number",
                "value": "ten",
            }
        ],
    }


async def test_a_run_of_unchanged_feeds_explains_with_the_rows_of_their_first_run(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    """Normalize reuses an unchanged feed's result: the second run's index of its rows as read
    is the first run's (its manifest copied under the second run), so as_read still comes."""
    tenant, first, second = f"t_{unique_id}", f"run_{unique_id}_1", f"run_{unique_id}_2"
    await seed_tenant(object_store, tenant, {"v1": V1, "v2": V2}, tenant_config(tenant))
    async with nats_client(isolated_bus.nats_url) as client:
        await request_run(client, STREAM, tenant, first)
        await run_outcome(client, STREAM, first)
        await request_run(client, STREAM, tenant, second)
        await run_outcome(client, STREAM, second)
    reader = ExplainReader(object_store)

    again = await reader.explain(tenant, second, "B-2")
    with pytest.raises(SkuNotInRun) as rejected:
        await reader.explain(tenant, second, "D-4")

    summary = await object_store.get_bytes(keys.report_key(tenant, second, "run_summary.json"))
    assert summary.count(b'"status": "unchanged"') == 2
    assert [(o.vendor_id, o.as_read) for o in again.offers] == [
        ("v1", SourceRow(row=3, cells={"SKU": "B-2", "QTY": "0", "COST": "20.00"})),
        ("v2", SourceRow(row=3, cells={"Item": "B-2", "Stock": "4", "Price": "25.00"})),
    ]
    assert [(f.vendor_id, f.row) for f in rejected.value.answer.findings] == [("v2", 5)]
