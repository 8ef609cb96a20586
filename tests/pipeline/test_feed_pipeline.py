"""The feed pipeline on real JetStream, Postgres and S3: ingest → normalize → pricing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.settings import IngestSettings
from relay_normalize.app import NormalizeApp
from relay_normalize.settings import NormalizeSettings
from relay_pricing.app import PricingApp
from relay_pricing.settings import PricingSettings
from relay_shared import keys, subjects
from relay_shared.bus import EventBus
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import RunRequested
from relay_shared.runtime import new_broker
from relay_shared.settings import CommonSettings
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, nats_client, run_outcome, wait_for_stream
from tests.support.running import running

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
STREAM = "RELAY"


def tenant_config(tenant_id: str, max_invalid_row_pct: float = 0.5) -> dict[str, object]:
    return {
        "tenant_id": tenant_id,
        "error_policy": {"max_invalid_row_pct": max_invalid_row_pct},
        "vendors": [
            {
                "vendor_id": "v1",
                "parser": {
                    "format": "csv",
                    "column_map": {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"},
                },
            },
            {
                "vendor_id": "v2",
                "parser": {
                    "format": "csv",
                    "column_map": {"sku": "Item", "quantity_available": "Stock", "cost": "Price"},
                },
            },
        ],
        "pricing": {"base_margin_pct": 0.20},
    }


V1 = b"SKU,QTY,COST\nA-1,5,10.00\nB-2,0,20.00\n"
V2 = b"Item,Stock,Price\nA-1,3,9.00\nB-2,4,25.00\nc-3,1,5.00\nD-4,ten,1.00\n"


@pytest.fixture(scope="module")
async def pipeline(isolated_bus: StackEndpoints) -> AsyncIterator[None]:
    env = isolated_bus.as_env()
    apps = [
        IngestApp(IngestSettings.from_env(env, nats_stream=STREAM)),
        NormalizeApp(NormalizeSettings.from_env(env, nats_stream=STREAM)),
        PricingApp(PricingSettings.from_env(env, nats_stream=STREAM)),
    ]
    async with running(apps), nats_client(isolated_bus.nats_url) as client:
        await wait_for_stream(client, STREAM)
        yield


async def request_run(stack: StackEndpoints, tenant_id: str, run_id: str) -> None:
    settings = CommonSettings.from_env(stack.as_env(), nats_stream=STREAM)
    broker = new_broker(settings)
    bus = EventBus(broker, STREAM, emits=[RunRequested], service="test")
    async with broker:
        await broker.connect()
        await bus.publish(
            RunRequested(
                event_id=f"run.requested:{run_id}",
                occurred_at=AS_OF,
                tenant_id=tenant_id,
                correlation_id=f"corr-{run_id}",
                run_id=run_id,
                config_version=1,
            )
        )


async def upload(store: ObjectStore, tenant_id: str, vendor: str, body: bytes) -> str:
    key = keys.inbound_key(tenant_id, vendor, AS_OF, "20260101T000000-0001", "csv")
    await store.put_bytes(key, body)
    return key


async def test_run_merges_prices_and_reports(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await TenantConfigStore(object_store).save(tenant, 1, tenant_config(tenant))
    await upload(object_store, tenant, "v1", V1)
    await upload(object_store, tenant, "v2", V2)

    await request_run(isolated_bus, tenant, run_id)

    async with nats_client(isolated_bus.nats_url) as client:
        merged = await run_outcome(client, STREAM, run_id)
        normalized = await collect(
            client,
            STREAM,
            subjects.ROWS_NORMALIZED,
            until=lambda e: e["scope_id"] == run_id and e["vendor_id"] == "v2",
        )
    assert merged["merged_rows"] == 3
    assert merged["correlation_id"] == f"corr-{run_id}"
    assert merged["event_id"] == f"offers.merged:{run_id}"
    assert merged["vendors"]["v2"] == {
        "rows": 4,
        "accepted": 3,
        "rejected": 1,
        "duplicates": 0,
        "warnings": 0,
        "sha256": hashlib.sha256(V2).hexdigest(),
    }
    ours = [(e["vendor_id"], e["status"]) for e in normalized if e["scope_id"] == run_id]
    assert sorted(ours) == [("v1", "ok"), ("v2", "ok")]
    csv = await object_store.get_bytes(keys.output_key(tenant, run_id, "merged_inventory.csv"))
    assert csv == (
        b"sku,quantity_available,price,vendor_id,updated_at\n"
        b"A-1,3,10.80,v2,2026-01-01T00:00:00Z\n"
        b"B-2,4,30.00,v2,2026-01-01T00:00:00Z\n"
        b"C-3,1,6.00,v2,2026-01-01T00:00:00Z\n"
    )
    errors = json.loads(
        await object_store.get_bytes(keys.report_key(tenant, run_id, "errors.json"))
    )
    assert [
        (e["vendor_id"], e["row"], e["column"], e["code"], e["value"]) for e in errors["errors"]
    ] == [("v2", 5, "quantity_available", "invalid_quantity", "ten")]


async def test_too_many_invalid_rows_fails_the_run_with_its_report(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await TenantConfigStore(object_store).save(tenant, 1, tenant_config(tenant, 0.05))
    await upload(object_store, tenant, "v1", V1)
    await upload(object_store, tenant, "v2", V2)

    await request_run(isolated_bus, tenant, run_id)

    async with nats_client(isolated_bus.nats_url) as client:
        failed = await run_outcome(client, STREAM, run_id)
    assert failed["event_id"] == f"run.failed:{run_id}"
    assert failed["code"] == "too_many_invalid_rows"
    assert failed["report_key"] == keys.report_key(tenant, run_id, "errors.json")
    assert not await object_store.exists(keys.output_key(tenant, run_id, "merged_inventory.csv"))
    summary = json.loads(
        await object_store.get_bytes(keys.report_key(tenant, run_id, "run_summary.json"))
    )
    assert summary["status"] == "failed"
    assert summary["merged_rows"] == 0
    assert summary["vendors"]["v2"]["status"] == "failed"
    assert summary["vendors"]["v1"]["status"] == "ok"


async def test_missing_required_feed_fails_the_run(
    pipeline: None, isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await TenantConfigStore(object_store).save(tenant, 1, tenant_config(tenant))
    await upload(object_store, tenant, "v1", V1)

    await request_run(isolated_bus, tenant, run_id)

    async with nats_client(isolated_bus.nats_url) as client:
        failed = await run_outcome(client, STREAM, run_id)
    assert (failed["event_id"], failed["code"]) == (f"run.failed:{run_id}", "missing_feed")
    errors = json.loads(
        await object_store.get_bytes(keys.report_key(tenant, run_id, "errors.json"))
    )
    assert [(e["vendor_id"], e["code"]) for e in errors["errors"]] == [("v2", "missing_feed")]
