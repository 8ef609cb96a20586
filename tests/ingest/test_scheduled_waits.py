"""Scheduled runs that wait for vendors, through two running ingest replicas (real JetStream,
Postgres and S3) on a movable clock (``APP_CLOCK_OFFSET_FILE``): once the cron time is due,
the run waits while a listed vendor has no fresh feed, starts as soon as they all do
(``vendors_fresh``), and, the next time, starts when ``max_wait_min`` has passed with the
vendor still missing (``max_wait``); each due time starts one run across both replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.domain.schedules import scheduled_run_id
from relay_ingest.settings import IngestSettings
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import TenantConfigured
from relay_shared.storage import ObjectStore
from tests.support.jetstream import (
    collect,
    nats_client,
    publish,
    stream_events,
    wait_consumed,
    wait_for_durables,
    wait_for_stream,
)
from tests.support.pipeline_runs import durable, tenant_config
from tests.support.polling import wait_until
from tests.support.running import running

pytestmark = pytest.mark.stack
STREAM = "SCHEDULE_WAITS"
FEED = b"SKU,QTY,COST\nsku-1,3,10.00\n"
CRON = "*/5 * * * *"


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "offset"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
async def replicas(isolated_bus: StackEndpoints, clock_file: Path) -> AsyncIterator[None]:
    """Two ingest replicas looking for due runs every 0.1 s by the clock in ``clock_file``."""
    env = isolated_bus.as_env()
    apps = [
        IngestApp(
            IngestSettings.from_env(
                env,
                nats_stream=STREAM,
                inbound_poll_s=0,
                pull_tick_s=0,
                schedule_tick_s=0.1,
                clock_offset_file=clock_file,
            )
        )
        for _ in range(2)
    ]
    async with running(apps), nats_client(isolated_bus.nats_url) as client:
        await wait_for_stream(client, STREAM)
        wanted = {
            durable("ingest", s) for s in (subjects.TENANT_CONFIGURED, subjects.RUN_REQUESTED)
        }
        await wait_for_durables(client, STREAM, wanted)
        yield


def _travel_to(clock_file: Path, at: datetime) -> None:
    clock_file.write_text(str((at - datetime.now(UTC)).total_seconds()))


async def _configure(client: Client, store: ObjectStore, tenant_id: str) -> None:
    config = tenant_config(tenant_id)
    config["schedule"] = {"runs": CRON, "wait_for_vendors": ["v1", "v2"], "max_wait_min": 3}
    await TenantConfigStore(store).save(tenant_id, 1, config)
    event = TenantConfigured(
        event_id=f"tenant.configured:{tenant_id}:1",
        occurred_at=datetime.now(UTC),
        tenant_id=tenant_id,
        correlation_id=f"corr-{tenant_id}",
        name=tenant_id,
        channels=[],
        config_version=1,
    )
    seq = await publish(client, STREAM, event)
    await wait_consumed(client, STREAM, durable("ingest", subjects.TENANT_CONFIGURED), seq)


async def _upload(store: ObjectStore, tenant_id: str, vendor: str, upload: str) -> str:
    key = keys.inbound_key(tenant_id, vendor, datetime.now(UTC), upload, "csv")
    await store.put_bytes(key, FEED)
    return key


async def _waits_for(conn: asyncpg.Connection, tenant_id: str, due: datetime) -> None:
    """Until a replica has looked at the due time ``due`` and found only v2 missing."""

    async def waiting() -> bool:
        row = await conn.fetchrow(
            "SELECT next_due_at, waiting_for FROM ingest.run_schedules WHERE tenant_id = $1",
            tenant_id,
        )
        return row is not None and (row["next_due_at"], row["waiting_for"]) == (due, ["v2"])

    await wait_until(waiting, 30.0, f"the run due at {due} to wait for v2")


async def _run_requested(client: Client, tenant_id: str, run_id: str) -> dict[str, Any]:
    events = await collect(
        client,
        STREAM,
        subjects.RUN_REQUESTED,
        until=lambda e: e["tenant_id"] == tenant_id and e["run_id"] == run_id,
        timeout=30.0,
    )
    return events[-1]


async def _pinned(client: Client, run_id: str) -> dict[str, str]:
    found: dict[str, str] = {}

    def both(event: dict[str, Any]) -> bool:
        if event["run_id"] == run_id:
            found[event["vendor_id"]] = event["key"]
        return len(found) == 2

    await collect(client, STREAM, subjects.FEED_RECEIVED, until=both, timeout=30.0)
    return found


@pytest.mark.usefixtures("replicas")
async def test_a_due_run_waits_for_fresh_feeds_then_for_at_most_max_wait(
    isolated_bus: StackEndpoints, object_store: ObjectStore, clock_file: Path, unique_id: str
) -> None:
    tenant_id = f"wait-{unique_id}"
    conn = await asyncpg.connect(isolated_bus.database_url)
    try:
        async with nats_client(isolated_bus.nats_url) as client:
            v1_first = await _upload(object_store, tenant_id, "v1", "up-1")
            await _configure(client, object_store, tenant_id)
            first_due = await conn.fetchval(
                "SELECT next_due_at FROM ingest.run_schedules WHERE tenant_id = $1", tenant_id
            )
            _travel_to(clock_file, first_due + timedelta(minutes=1))
            await _waits_for(conn, tenant_id, first_due)
            started_while_waiting = await conn.fetchval(
                "SELECT count(*) FROM ingest.scheduled_runs WHERE tenant_id = $1", tenant_id
            )
            v2_first = await _upload(object_store, tenant_id, "v2", "up-2")
            first_id = scheduled_run_id(tenant_id, first_due)
            first = await _run_requested(client, tenant_id, first_id)
            first_pins = await _pinned(client, first_id)

            second_due = first_due + timedelta(minutes=5)
            v1_second = await _upload(object_store, tenant_id, "v1", "up-3")
            _travel_to(clock_file, second_due + timedelta(minutes=1))
            await _waits_for(conn, tenant_id, second_due)
            _travel_to(clock_file, second_due + timedelta(minutes=3, seconds=10))
            second_id = scheduled_run_id(tenant_id, second_due)
            second = await _run_requested(client, tenant_id, second_id)
            second_pins = await _pinned(client, second_id)
            requested = [
                e
                for e in await stream_events(client, STREAM, subjects.RUN_REQUESTED)
                if e["tenant_id"] == tenant_id
            ]
        runs = await conn.fetch(
            "SELECT due_at, run_id, started_by, missing_vendors FROM ingest.scheduled_runs"
            " WHERE tenant_id = $1 ORDER BY due_at",
            tenant_id,
        )
    finally:
        _travel_to(clock_file, datetime.now(UTC))
        await conn.close()

    assert started_while_waiting == 0
    assert [e["run_id"] for e in requested] == [first_id, second_id]
    assert [tuple(r) for r in runs] == [
        (first_due, first_id, "vendors_fresh", []),
        (second_due, second_id, "max_wait", ["v2"]),
    ]
    first_at = datetime.fromisoformat(first["occurred_at"])
    assert first_due + timedelta(minutes=1) <= first_at < second_due
    second_at = datetime.fromisoformat(second["occurred_at"])
    assert second_due + timedelta(minutes=3) <= second_at < second_due + timedelta(minutes=5)
    assert first_pins == {"v1": v1_first, "v2": v2_first}
    assert second_pins == {"v1": v1_second, "v2": v2_first}
