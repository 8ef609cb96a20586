"""Ingest reads only under the tenant's own prefix (defence in depth): an inbound key that
leads out of ``tenants/{tenant}/`` fails the run permanently (``run.failed`` with
``foreign_key``), with the same words whether or not something exists where it leads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.settings import IngestSettings
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.storage import ObjectStore
from tests.support.jetstream import (
    nats_client,
    next_event,
    run_outcome,
    wait_for_durables,
    wait_for_stream,
)
from tests.support.pipeline_runs import AS_OF, UPLOAD_ID, durable, request_run, tenant_config
from tests.support.running import running

pytestmark = pytest.mark.stack
STREAM = "INGEST_KEYS"
FEED = b"SKU,QTY,COST\nSKU-1,1,1.00\n"
MESSAGE = "the inbound files of vendor 'v1' do not lie under the tenant's own prefix"


@pytest.fixture(scope="module")
async def ingest(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[None]:
    settings = IngestSettings.from_env(
        isolated_bus.as_env(),
        nats_stream=STREAM,
        state_dir=tmp_path_factory.mktemp("ingest"),
    )
    async with running([IngestApp(settings)]), nats_client(isolated_bus.nats_url) as client:
        await wait_for_stream(client, STREAM)
        await wait_for_durables(client, STREAM, [durable("ingest", subjects.RUN_REQUESTED)], 30.0)
        yield


async def _run(
    nats_url: str, tenant_id: str, run_id: str, store: ObjectStore, planted: dict[str, bytes]
) -> dict[str, Any]:
    await TenantConfigStore(store).save(tenant_id, 1, tenant_config(tenant_id))
    for key, body in planted.items():
        await store.put_bytes(key, body)
    async with nats_client(nats_url) as client:
        await request_run(client, STREAM, tenant_id, run_id)
        return await run_outcome(client, STREAM, run_id, timeout=30.0)


@pytest.mark.usefixtures("ingest")
async def test_a_key_leading_out_of_the_tenant_fails_the_run_the_same_either_way(
    isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    victim = f"victim-{unique_id}"
    victim_key = keys.inbound_key(victim, "v1", AS_OF, UPLOAD_ID, "csv")
    await object_store.put_bytes(victim_key, FEED)
    outcomes = {}
    for name, target in (("exists", victim), ("absent", f"nobody-{unique_id}")):
        tenant_id = f"{name}-{unique_id}"
        escape = "../../../" + keys.inbound_key(target, "v1", AS_OF, UPLOAD_ID, "csv")
        planted = {keys.inbound_prefix(tenant_id, "v1") + escape.removeprefix("tenants/"): FEED}
        outcomes[name] = await _run(
            isolated_bus.nats_url, tenant_id, f"run-{name}-{unique_id}", object_store, planted
        )

    for name, outcome in outcomes.items():
        assert outcome["event_id"] == f"run.failed:run-{name}-{unique_id}"
        assert (outcome["stage"], outcome["code"], outcome["message"]) == (
            "ingest",
            "foreign_key",
            MESSAGE,
        )
        report = await object_store.get_bytes(outcome["report_key"])
        assert victim not in report.decode()
        assert MESSAGE in report.decode()


@pytest.mark.usefixtures("ingest")
async def test_the_tenants_own_uploads_are_pinned(
    isolated_bus: StackEndpoints, object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id = f"own-{unique_id}"
    run_id = f"run-own-{unique_id}"
    uploads = {v: keys.inbound_key(tenant_id, v, AS_OF, UPLOAD_ID, "csv") for v in ("v1", "v2")}
    await TenantConfigStore(object_store).save(tenant_id, 1, tenant_config(tenant_id))
    for key in uploads.values():
        await object_store.put_bytes(key, FEED)
    seen: dict[str, str] = {}

    def both(event: dict[str, Any]) -> bool:
        if event.get("run_id") == run_id:
            seen[event["vendor_id"]] = event["key"]
        return len(seen) == len(uploads)

    async with nats_client(isolated_bus.nats_url) as client:
        await request_run(client, STREAM, tenant_id, run_id)
        await next_event(client, STREAM, subjects.FEED_RECEIVED, where=both, timeout=30.0)

    assert seen == uploads
