"""Two insights processes (``relay serve insights`` twice) on one stream and one schema: each
tenant's day is evaluated once, and a reallocation entry is claimed once, whoever races."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relay_cli.stack import ServiceProcesses, StackEndpoints
from relay_cli.stack.environment import service_env
from relay_cli.stack.processes import serve_command
from relay_shared import subjects
from relay_shared.events import ChannelActed, ReallocationClaimRequested
from relay_shared.listings import Listing
from relay_shared.storage import ObjectStore
from tests.insights.daily_support import (
    TravelClock,
    configure_tenant,
    daily_config,
    events_of,
    import_listings,
)
from tests.support.jetstream import (
    delete_streams,
    nats_client,
    publish,
    wait_consumed,
    wait_for_stream,
)
from tests.support.polling import eventually_async

pytestmark = pytest.mark.stack

STREAM = f"REPLICAS_{uuid.uuid4().hex[:8].upper()}"
REPLICAS = ("insights-a", "insights-b")
TENANTS = 6


@pytest.fixture
def replicas(
    isolated_bus: StackEndpoints, tmp_path: Path
) -> Iterator[tuple[ServiceProcesses, TravelClock]]:
    clock = TravelClock(tmp_path / "offset")
    parent = {
        **os.environ,
        "APP_NATS_STREAM": STREAM,
        "APP_CLOCK_OFFSET_FILE": str(clock.path),
        "APP_EVALUATE_TICK_S": "0.1",
        "APP_OUTBOX_INTERVAL_S": "0.2",
    }

    def env_for(_name: str) -> dict[str, str]:
        return service_env("insights", isolated_bus, state_dir=tmp_path, parent_env=parent)

    with ServiceProcesses(
        env_for, tmp_path / "logs", command=lambda _name: serve_command("insights")
    ) as processes:
        for name in REPLICAS:
            processes.start(name)
        yield processes, clock
        assert processes.unexpected_exits() == {}
        processes.stop_all()


def log_events(processes: ServiceProcesses, name: str, event: str) -> list[dict[str, Any]]:
    path = processes.log_path(name)
    if not path.exists():
        return []
    found = []
    for line in path.read_text("utf-8", errors="replace").splitlines():
        if f'"{event}"' in line:
            try:
                found.append(json.loads(line[line.index("{") :]))
            except ValueError:
                continue
    return found


async def test_two_replicas_evaluate_each_tenant_day_once_and_claim_once(
    replicas: tuple[ServiceProcesses, TravelClock],
    isolated_bus: StackEndpoints,
    object_store: ObjectStore,
) -> None:
    processes, clock = replicas

    async def both_started() -> bool | None:
        started = [log_events(processes, name, "service.started") for name in REPLICAS]
        return True if all(started) else None

    await eventually_async(both_started, timeout=60.0, what="both replicas started")
    tenants = [f"t-{uuid.uuid4().hex[:12]}" for _ in range(TENANTS)]
    async with nats_client(isolated_bus.nats_url) as client:
        try:
            await wait_for_stream(client, STREAM)
            for tenant in tenants:
                config = daily_config(tenant, "Europe/Paris")
                configured = await configure_tenant(client, STREAM, object_store, tenant, config)
                items = [
                    Listing(f"K{i}", "Kettle", 3, "active", clock.now().date()) for i in range(3)
                ]
                listed = await import_listings(
                    client, STREAM, object_store, tenant, "amazon", items, clock.now()
                )
            await wait_consumed(client, STREAM, "insights-tenant-configured", configured)
            await wait_consumed(client, STREAM, "insights-listings-imported", listed)

            clock.travel(31)
            for tenant in tenants:
                opened = await events_of(client, STREAM, subjects.INSIGHT_GENERATED, tenant, 3)
                assert [(e["sku"], e["kind"]) for e in opened] == [
                    ("K0", "slow_mover"),
                    ("K1", "slow_mover"),
                    ("K2", "slow_mover"),
                ]
            claimed = await race_for_one_entry(client, tenants[0])
        finally:
            await delete_streams(client, STREAM)

    evaluated = [e for name in REPLICAS for e in log_events(processes, name, "daily.evaluated")]
    per_tenant = {t: sum(1 for e in evaluated if e.get("tenant_id") == t) for t in tenants}
    assert per_tenant == dict.fromkeys(tenants, 1)
    conn = await asyncpg.connect(
        isolated_bus.database_url, server_settings={"search_path": "insights"}
    )
    try:
        rows = await conn.fetch(
            "SELECT tenant_id, count(*) FROM daily_evaluations WHERE tenant_id = ANY($1)"
            " GROUP BY tenant_id",
            tenants,
        )
        claims = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE subject = $1 AND payload::jsonb ->> 'state'"
            " = 'claimed' AND payload::jsonb ->> 'tenant_id' = $2",
            subjects.REALLOCATION_CHANGED,
            tenants[0],
        )
        generated = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE subject = $1"
            " AND payload::jsonb ->> 'tenant_id' = ANY($2)",
            subjects.INSIGHT_GENERATED,
            tenants,
        )
    finally:
        await conn.close()
    assert {row["tenant_id"]: row["count"] for row in rows} == dict.fromkeys(tenants, 1)
    assert generated == 3 * TENANTS
    assert claimed == ["open", "claimed"]
    assert claims == 1


async def race_for_one_entry(client: Any, tenant: str) -> list[str]:
    """Amazon pushes its kettles; eight channels ask to claim them at once (the two replicas
    share the claims' consumer); the states the entry went through."""
    at = datetime.now(UTC) + timedelta(days=31)
    push = ChannelActed(
        event_id=f"{subjects.CHANNEL_ACTED}:{tenant}:push",
        occurred_at=at,
        tenant_id=tenant,
        correlation_id="corr-push",
        action_id="act-push",
        insight_id="ins-push",
        channel="amazon",
        sku="K0",
        action="push",
        outcome="succeeded",
        dry_run=False,
        duration_ms=5,
    )
    seq = await publish(client, STREAM, push)
    await wait_consumed(client, STREAM, "insights-channel-acted", seq)
    for number in range(8):
        claim = ReallocationClaimRequested(
            event_id=f"{subjects.REALLOCATION_CLAIM_REQUESTED}:{tenant}:{number}",
            occurred_at=at + timedelta(seconds=number),
            tenant_id=tenant,
            correlation_id=f"corr-claim-{number}",
            entry_id="push:act-push",
            channel=f"shop{number}",
        )
        seq = await publish(client, STREAM, claim)
    durable = subjects.durable_name("insights", subjects.REALLOCATION_CLAIM_REQUESTED)
    await wait_consumed(client, STREAM, durable, seq)
    changes = await events_of(client, STREAM, subjects.REALLOCATION_CHANGED, tenant, 2)
    return [c["state"] for c in changes]
