"""A scheduled run's wait survives a restart: ingest stops while a due time waits for a
vendor (no replica left), the vendor's feed arrives meanwhile, and the ingest started again
(a new process state, the same Postgres) starts the run, as ``vendors_fresh``, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client

from relay_cli.stack import StackEndpoints
from relay_ingest.app import IngestApp
from relay_ingest.domain.schedules import scheduled_run_id
from relay_ingest.settings import IngestSettings
from relay_shared import keys, subjects
from relay_shared.storage import ObjectStore
from tests.ingest.test_scheduled_waits import FEED, _configure, _run_requested, _travel_to
from tests.support.jetstream import nats_client, stream_events, wait_for_stream
from tests.support.pipeline_runs import durable
from tests.support.polling import wait_until
from tests.support.running import running

pytestmark = pytest.mark.stack
STREAM = "SCHEDULE_WAITS"  # the helpers publish to this stream name (its own NATS server here)


def _ingest(env: dict[str, str], clock_file: Path) -> IngestApp:
    return IngestApp(
        IngestSettings.from_env(
            env,
            nats_stream=STREAM,
            inbound_poll_s=0,
            pull_tick_s=0,
            schedule_tick_s=0.1,
            clock_offset_file=clock_file,
        )
    )


async def test_a_waiting_run_starts_after_a_restart_once_its_vendor_is_fresh(
    isolated_bus: StackEndpoints, object_store: ObjectStore, tmp_path: Path, unique_id: str
) -> None:
    tenant_id, clock_file = f"restart-{unique_id}", tmp_path / "offset"
    env = isolated_bus.as_env()
    conn = await asyncpg.connect(isolated_bus.database_url)
    try:
        async with nats_client(isolated_bus.nats_url) as client:
            async with running([_ingest(env, clock_file)]):
                await wait_for_stream(client, STREAM)
                await _declared(client)
                await object_store.put_bytes(
                    keys.inbound_key(tenant_id, "v1", datetime.now(UTC), "up-1", "csv"), FEED
                )
                await _configure(client, object_store, tenant_id)
                due = await conn.fetchval(
                    "SELECT next_due_at FROM ingest.run_schedules WHERE tenant_id = $1",
                    tenant_id,
                )
                _travel_to(clock_file, due + timedelta(minutes=1))

                async def waits_for_v2() -> bool:
                    found = await conn.fetchval(
                        "SELECT waiting_for FROM ingest.run_schedules WHERE tenant_id = $1",
                        tenant_id,
                    )
                    return bool(found == ["v2"])

                await wait_until(waits_for_v2, 30.0, "the due run to wait for v2")
            v2_key = keys.inbound_key(tenant_id, "v2", datetime.now(UTC), "up-2", "csv")
            await object_store.put_bytes(v2_key, FEED)
            started_while_stopped = await conn.fetchval(
                "SELECT count(*) FROM ingest.scheduled_runs WHERE tenant_id = $1", tenant_id
            )
            async with running([_ingest(env, clock_file)]):
                run = await _run_requested(client, tenant_id, scheduled_run_id(tenant_id, due))
                requested = [
                    e
                    for e in await stream_events(client, STREAM, subjects.RUN_REQUESTED)
                    if e["tenant_id"] == tenant_id
                ]
        started_by = await conn.fetchval(
            "SELECT started_by FROM ingest.scheduled_runs WHERE tenant_id = $1", tenant_id
        )
    finally:
        await conn.close()

    assert started_while_stopped == 0
    assert [e["event_id"] for e in requested] == [run["event_id"]]
    assert started_by == "vendors_fresh"


async def _declared(client: Client) -> None:
    js = client.jetstream()
    wanted = durable("ingest", subjects.TENANT_CONFIGURED)

    async def exists() -> bool:
        return wanted in {info.name for info in await js.consumers_info(STREAM)}

    await wait_until(exists, 60.0, "ingest's consumers")
