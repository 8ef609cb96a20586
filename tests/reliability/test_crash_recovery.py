"""Crashes, restarts and outages against real service processes on a stack of our own.

The stack is this module's (its NATS and Postgres are restarted in place, which must not
disturb other tests). ingest, normalize and pricing run as ``relay serve`` processes with a
2 s ack wait (a killed holder's message comes back quickly), S3 reached through a fault proxy,
and the test-only pause (``APP_TEST_PAUSE_DIR``): a stage armed with ``<stage>.pause`` holds
its handled message unacked until the marker goes, so a kill lands in the worst window
(work saved and published, ack not sent).

Every run must end exactly like the undisturbed baseline run: byte-identical outputs, one
message per stage and vendor, no extra rows or objects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relay_cli.stack import EmbeddedStack, ServiceProcesses, service_env
from relay_shared import subjects
from relay_shared.storage import ObjectStore, S3Settings, open_object_store
from tests.support.fault_proxy import FaultProxy
from tests.support.jetstream import nats_client, run_outcome
from tests.support.pipeline_runs import (
    V1,
    V2,
    comparable_outputs,
    deliveries,
    expected_run_keys,
    request_run,
    seed_tenant,
    stream_messages,
    tenant_objects,
    wait_drained,
    wait_for_consumers,
    wait_for_file,
    wait_until,
)

STREAM = "REL_CRASH"
SERVICES = ("ingest", "normalize", "pricing")
ONE_RUN = {
    subjects.RUN_REQUESTED: 1,
    subjects.FEED_RECEIVED: 2,
    subjects.ROWS_NORMALIZED: 2,
    subjects.OFFERS_MERGED: 1,
}


class Rig:
    """This module's stack, processes, fault proxy and pause markers."""

    def __init__(
        self, stack: EmbeddedStack, processes: ServiceProcesses, proxy: FaultProxy, pause: Path
    ) -> None:
        self.stack = stack
        self.processes = processes
        self.proxy = proxy
        self.pause_dir = pause
        self.baseline: dict[str, bytes] = {}

    @property
    def nats_url(self) -> str:
        return self.stack.endpoints.nats_url

    def arm(self, stage: str, event_filter: str) -> Path:
        marker = self.pause_dir / f"{stage}.pause"
        marker.write_text(event_filter, "utf-8")
        return marker


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    state = tmp_path_factory.mktemp("crash_stack")
    pause = state / "pause"
    pause.mkdir()
    with EmbeddedStack(state, env={}) as stack, FaultProxy(*_s3_address(stack)) as proxy:
        endpoints = stack.endpoints
        extra = {
            "APP_NATS_STREAM": STREAM,
            "APP_ACK_WAIT_S": "2",
            "APP_TEST_PAUSE_DIR": str(pause),
            # one feed at a time, so "normalize holds v1, v2 not yet read" stays exact: with
            # two workers v2 may be in flight (unacked) at the kill and is delivered again too,
            # which the exact delivery counts below would see as a second redelivery
            "APP_NORMALIZE_WORKERS": "1",
        }

        def env_for(name: str) -> dict[str, str]:
            env = service_env(name, endpoints, state_dir=state, parent_env={**_base_env(), **extra})
            return {**env, "APP_S3_ENDPOINT_URL": proxy.url}

        with ServiceProcesses(env_for, state / "logs", stop_grace=5.0) as processes:
            processes.start_all(SERVICES)
            yield Rig(stack, processes, proxy, pause)


def _s3_address(stack: EmbeddedStack) -> tuple[str, int]:
    assert stack.s3 is not None
    return stack.s3.host, stack.s3.port


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("APP_")}


@pytest.fixture(scope="module")
async def store(rig: Rig) -> AsyncIterator[ObjectStore]:
    e = rig.stack.endpoints
    settings = S3Settings(e.s3_bucket, e.s3_region, e.s3_endpoint_url, "testing", "testing")
    async with open_object_store(settings) as opened:
        await opened.ensure_bucket()
        yield opened


@pytest.fixture(scope="module")
async def baseline(rig: Rig, store: ObjectStore) -> dict[str, bytes]:
    """An undisturbed run: what every disturbed run must reproduce."""
    tenant, run_id = "t_baseline", "run_baseline"
    await seed_tenant(store, tenant, {"v1": V1, "v2": V2})
    async with nats_client(rig.nats_url) as client:
        await wait_for_consumers(client, STREAM)
        await request_run(client, STREAM, tenant, run_id)
        outcome = await run_outcome(client, STREAM, run_id, timeout=60)
        assert outcome["event_id"] == f"offers.merged:{run_id}"
        await wait_drained(client, STREAM)
    return comparable_outputs(await tenant_objects(store, tenant), tenant, run_id)


async def _assert_like_baseline(
    rig: Rig, store: ObjectStore, baseline: dict[str, bytes], tenant: str, run_id: str
) -> None:
    """Same bytes as the baseline, one message per stage and vendor, one row per fact,
    no object beyond the run's own."""
    objects = await tenant_objects(store, tenant)
    assert comparable_outputs(objects, tenant, run_id) == baseline
    produced = {k for k in objects if "/inbound/" not in k and "/config/" not in k}
    assert produced == expected_run_keys(tenant, run_id, ["v1", "v2"])
    async with nats_client(rig.nats_url) as client:
        messages = await stream_messages(client, STREAM)
    assert _counts(messages, run_id) == ONE_RUN
    conn = await asyncpg.connect(rig.stack.endpoints.database_url)
    try:
        assert await _count(conn, "pricing.vendor_results", "scope_id", run_id) == 2
        assert await _count(conn, "pricing.merges", "scope_id", run_id) == 1
        assert await _count(conn, "ingest.run_feeds", "run_id", run_id) == 2
        announced = await conn.fetchval(
            "SELECT announced_at IS NOT NULL FROM pricing.merges WHERE scope_id = $1", run_id
        )
        assert announced is True
    finally:
        await conn.close()


def _counts(messages: list[tuple[str, dict[str, Any]]], run_id: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for subject, payload in messages:
        if run_id in (payload.get("run_id"), payload.get("scope_id")):
            found[subject] = found.get(subject, 0) + 1
    return found


async def _count(conn: asyncpg.Connection, table: str, column: str, value: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", value))


# Which message each stage holds when it is killed: ingest its run.requested (both
# feed.received already published), normalize v1's feed.received (rows.normalized v1
# published, v2 not yet read), pricing the completing v2 result (offers.merged published).
HELD = {"ingest": "run.requested:{run}", "normalize": "{run}:v1", "pricing": "{run}:v2"}
#: Deliveries of an undisturbed run, per consumer.
DELIVERIES = {"ingest": 1, "normalize": 2, "pricing": 2}


@pytest.mark.parametrize("stage", SERVICES)
async def test_sigkill_while_holding_an_unacked_message_loses_and_duplicates_nothing(
    stage: str,
    rig: Rig,
    store: ObjectStore,
    baseline: dict[str, bytes],
    unique_id: str,
    record_recovery: Callable[[str, float], None],
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await seed_tenant(store, tenant, {"v1": V1, "v2": V2})
    marker = rig.arm(stage, HELD[stage].format(run=run_id))
    async with nats_client(rig.nats_url) as client:
        before = await deliveries(client, STREAM)
        await request_run(client, STREAM, tenant, run_id)
        held = rig.pause_dir / f"{stage}.held"
        assert run_id in await wait_for_file(held)
        held.unlink()
        if stage == "pricing":  # the kill lands after the merge was announced
            outcome = await run_outcome(client, STREAM, run_id, timeout=5)
            assert outcome["event_id"] == f"offers.merged:{run_id}"

        killed_at = time.monotonic()
        await asyncio.to_thread(rig.processes.kill, stage)
        marker.unlink()
        await asyncio.to_thread(rig.processes.start, stage)
        outcome = await run_outcome(client, STREAM, run_id, timeout=60)
        await wait_drained(client, STREAM)
        record_recovery(
            f"SIGKILL {stage} -> run complete and drained", time.monotonic() - killed_at
        )
        after = await deliveries(client, STREAM)

    assert outcome["event_id"] == f"offers.merged:{run_id}"
    # exactly one redelivery: the held message, nothing else
    assert {s: after[s] - before[s] for s in after} == {
        s: n + (s == stage) for s, n in DELIVERIES.items()
    }
    await _assert_like_baseline(rig, store, baseline, tenant, run_id)


async def _start_held_run(rig: Rig, store: ObjectStore, tenant: str, run_id: str) -> Path:
    """A run whose normalize holds v1's feed.received (done, unacked); returns the marker."""
    await seed_tenant(store, tenant, {"v1": V1, "v2": V2})
    marker = rig.arm("normalize", f"{run_id}:v1")
    async with nats_client(rig.nats_url) as client:
        await request_run(client, STREAM, tenant, run_id)
    held = rig.pause_dir / "normalize.held"
    assert run_id in await wait_for_file(held)
    held.unlink()
    return marker


async def _finish(rig: Rig, run_id: str, timeout: float = 90.0) -> dict[str, Any]:
    async with nats_client(rig.nats_url) as client:
        outcome = await run_outcome(client, STREAM, run_id, timeout=timeout)
        await wait_drained(client, STREAM, timeout)
    return outcome


@pytest.mark.parametrize("server", ["NATS", "Postgres"])
async def test_a_server_restart_mid_run_loses_and_duplicates_nothing(
    rig: Rig,
    store: ObjectStore,
    baseline: dict[str, bytes],
    unique_id: str,
    record_recovery: Callable[[str, float], None],
    server: str,
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    restart = {"NATS": rig.stack.restart_nats, "Postgres": rig.stack.restart_postgres}[server]
    marker = await _start_held_run(rig, store, tenant, run_id)

    started = time.monotonic()
    restart_s = await asyncio.to_thread(restart)
    marker.unlink()  # the held message moves on (Postgres: into the pool's dead connections)
    outcome = await _finish(rig, run_id)
    record_recovery(
        f"{server} restart ({restart_s:.2f}s) -> run complete", time.monotonic() - started
    )

    assert outcome["event_id"] == f"offers.merged:{run_id}"
    assert rig.processes.unexpected_exits() == {}
    await _assert_like_baseline(rig, store, baseline, tenant, run_id)


OUTAGE_S = 10.0


async def test_postgres_outage_naks_with_backoff_and_heals_without_failing_the_run(
    rig: Rig,
    store: ObjectStore,
    baseline: dict[str, bytes],
    unique_id: str,
    record_recovery: Callable[[str, float], None],
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    async with nats_client(rig.nats_url) as client:
        before = await deliveries(client, STREAM)
    marker = await _start_held_run(rig, store, tenant, run_id)

    down_at = time.monotonic()
    await asyncio.to_thread(rig.stack.stop_postgres)
    marker.unlink()  # normalize acks; pricing cannot record v1/v2 while Postgres is down
    async with nats_client(rig.nats_url) as client:
        await _wait_redeliveries(client, "pricing", before["pricing"] + 2 + 3, down_at)
    await asyncio.to_thread(rig.stack.start_postgres)
    up_at = time.monotonic()
    outcome = await _finish(rig, run_id)
    record_recovery(
        f"Postgres down {up_at - down_at:.1f}s; back up -> run complete",
        time.monotonic() - up_at,
    )

    assert outcome["event_id"] == f"offers.merged:{run_id}"
    await _assert_like_baseline(rig, store, baseline, tenant, run_id)


async def test_s3_outage_naks_with_backoff_and_heals_without_failing_the_run(
    rig: Rig,
    store: ObjectStore,
    baseline: dict[str, bytes],
    unique_id: str,
    record_recovery: Callable[[str, float], None],
) -> None:
    tenant, run_id = f"t_{unique_id}", f"run_{unique_id}"
    await seed_tenant(store, tenant, {"v1": V1, "v2": V2})  # directly, not through the proxy
    async with nats_client(rig.nats_url) as client:
        before = await deliveries(client, STREAM)
        down_at = time.monotonic()
        await asyncio.to_thread(rig.proxy.cut)
        await request_run(client, STREAM, tenant, run_id)
        await _wait_redeliveries(client, "ingest", before["ingest"] + 1 + 2, down_at)
    await asyncio.to_thread(rig.proxy.heal)
    up_at = time.monotonic()
    outcome = await _finish(rig, run_id)
    record_recovery(
        f"S3 unreachable {up_at - down_at:.1f}s; healed -> run complete",
        time.monotonic() - up_at,
    )

    assert outcome["event_id"] == f"offers.merged:{run_id}"
    assert rig.proxy.refused > 0
    await _assert_like_baseline(rig, store, baseline, tenant, run_id)


async def _wait_redeliveries(client: Any, service: str, at_least: int, since: float) -> None:
    """Until ``service``'s consumer has delivered ``at_least`` times (so it naked and was
    redelivered) and the outage has lasted ``OUTAGE_S``."""

    async def long_enough() -> bool:
        delivered = (await deliveries(client, STREAM))[service]
        return delivered >= at_least and time.monotonic() - since >= OUTAGE_S

    await wait_until(long_enough, 60, f"{service} to be redelivered during the outage", 0.2)
