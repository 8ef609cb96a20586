"""Helpers for vendor pull tests: configuring a tenant straight into the bucket (secrets sealed
as the gateway seals them) and reading a vendor's pull status from ``ingest.vendor_pulls``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from nats.aio.client import Client

from relay_shared import subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import TenantConfigured
from relay_shared.secrets_box import SecretsBox
from relay_shared.storage import ObjectStore
from tests.support.jetstream import publish, stream_events, wait_consumed
from tests.support.pipeline_runs import durable
from tests.support.polling import eventually_async

SECRET_KEY = "pull-tests-secret-key"


async def configure(
    client: Client,
    store: ObjectStore,
    stream: str,
    tenant_id: str,
    version: int,
    inbounds: dict[str, dict[str, Any]],
) -> None:
    """Store config ``version`` with one csv vendor per entry of ``inbounds`` (sealed) and
    announce it; returns once ingest has consumed the announcement."""
    config = {
        "tenant_id": tenant_id,
        "vendors": [
            {
                "vendor_id": vendor_id,
                "inbound": inbound,
                "parser": {
                    "column_map": {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
                },
            }
            for vendor_id, inbound in inbounds.items()
        ],
        "pricing": {"base_margin_pct": 0.20},
    }
    sealed = SecretsBox(SECRET_KEY).seal_config(config)
    await TenantConfigStore(store).save(tenant_id, version, sealed)
    event = TenantConfigured(
        event_id=f"tenant.configured:{tenant_id}:{version}",
        occurred_at=datetime.now(UTC),
        tenant_id=tenant_id,
        correlation_id=f"corr-{tenant_id}",
        name=tenant_id,
        channels=[],
        config_version=version,
    )
    seq = await publish(client, stream, event)
    await wait_consumed(client, stream, durable("ingest", subjects.TENANT_CONFIGURED), seq)


async def pull_status(database_url: str, tenant_id: str, vendor_id: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT status, error_code, error, attempts, etag, last_key, last_attempt_at"
            " FROM ingest.vendor_pulls WHERE tenant_id = $1 AND vendor_id = $2",
            tenant_id,
            vendor_id,
        )
    finally:
        await conn.close()
    return None if row is None else dict(row)


async def wait_status(
    database_url: str, tenant_id: str, vendor_id: str, status: str, after: datetime | None = None
) -> dict[str, Any]:
    """The vendor's status row once it is ``status`` (for an attempt after ``after``)."""

    async def probe() -> dict[str, Any] | None:
        row = await pull_status(database_url, tenant_id, vendor_id)
        if row is None or row["status"] != status:
            return None
        if after is not None and row["last_attempt_at"] <= after:
            return None
        return row

    return await eventually_async(probe, timeout=30.0, what=f"{vendor_id} {status}")


async def due_now(database_url: str, tenant_id: str, vendor_id: str) -> datetime:
    """Make the vendor due (as its cron time coming would); returns that time."""
    conn = await asyncpg.connect(database_url)
    try:
        due: datetime = await conn.fetchval(
            "UPDATE ingest.vendor_pulls SET next_due_at = now() WHERE tenant_id = $1"
            " AND vendor_id = $2 RETURNING next_due_at",
            tenant_id,
            vendor_id,
        )
    finally:
        await conn.close()
    return due


async def feeds_of(client: Client, stream: str, tenant_id: str) -> list[dict[str, Any]]:
    return [
        event
        for event in await stream_events(client, stream, subjects.FEED_RECEIVED)
        if event["tenant_id"] == tenant_id
    ]


async def wait_feeds(client: Client, stream: str, tenant_id: str, count: int) -> list[Any]:
    """The tenant's feed.received events once the stream holds ``count`` of them (a vendor's
    status is committed before its outbox is drained onto the stream)."""

    async def probe() -> list[dict[str, Any]] | None:
        found = await feeds_of(client, stream, tenant_id)
        return found if len(found) >= count else None

    return await eventually_async(probe, timeout=30.0, what=f"{count} feeds of {tenant_id}")
