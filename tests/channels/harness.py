"""The channels service on the real stack (JetStream, Postgres, S3) against the local fake
marketplaces: tenants, their configs and merged feeds, insights in, audit rows out."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from nats.aio.client import Client
from pydantic import SecretStr

from relay_channels.app import ChannelsApp
from relay_channels.settings import ChannelsSettings
from relay_cli.stack import StackEndpoints
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import InsightGenerated, OffersMerged, ReallocationChanged
from relay_shared.runtime import run_worker
from relay_shared.secrets_box import SecretsBox
from relay_shared.storage import ObjectStore
from tests.support.fake_marketplaces import (
    AMAZON_CREDENTIALS,
    EBAY_CREDENTIALS,
    MARKETPLACE_ID,
    Marketplaces,
    fake_marketplaces,
)
from tests.support.jetstream import (
    collect,
    delete_streams,
    nats_client,
    publish,
    stream_events,
    wait_consumed,
    wait_for_stream,
)

SECRET_KEY = "channels-test-secret-key-32-bytes!!"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MERGED_HEADER = "sku,quantity_available,price,map_price\n"


@dataclass
class Service:
    client: Client
    db: asyncpg.Connection
    stream: str
    fakes: Marketplaces
    store: ObjectStore


@asynccontextmanager
async def channels_service(
    endpoints: StackEndpoints, store: ObjectStore, **overrides: Any
) -> AsyncIterator[Service]:
    stream = f"CHANNELS_{uuid.uuid4().hex[:8].upper()}"
    async with fake_marketplaces() as fakes, nats_client(endpoints.nats_url) as client:
        values: dict[str, Any] = {
            "nats_stream": stream,
            "outbox_interval_s": 0.2,
            "max_deliver": 3,
            "retry_base_delay_s": 0.1,
            "retry_max_delay_s": 0.2,
            "secret_key": SecretStr(SECRET_KEY),
            "channels_timeout_s": 1.0,
            "channels_max_retry_wait_s": 3.0,
            **fakes.settings(),
            **overrides,
        }
        settings = ChannelsSettings.from_env(endpoints.as_env(), **values)
        fakes.amazon.hang_s = fakes.ebay.hang_s = 3.0
        db = await asyncpg.connect(
            endpoints.database_url, server_settings={"search_path": "channels", "timezone": "UTC"}
        )
        try:
            async with _serving(ChannelsApp(settings)):
                await wait_for_stream(client, stream)
                yield Service(client, db, stream, fakes, store)
        finally:
            await db.close()
            await delete_streams(client, stream)


@asynccontextmanager
async def _serving(app: ChannelsApp) -> AsyncIterator[None]:
    """The service's worker loop in a task, with its operations port (``/metrics``) when
    ``metrics_port`` is set; cancelled (a clean stop) on exit."""
    task = asyncio.create_task(
        run_worker(app.broker, app.settings, app.wired(), app.operations, app.in_flight)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def channel_sections(
    tenant: str, *, dry_run: bool, floor: str = "map", pull: bool = False
) -> dict[str, Any]:
    seller = f"S-{tenant}"
    return {
        "amazon": {
            "insights": ["out_of_stock", "slow_mover"],
            "actions": {"out_of_stock": "pause", "slow_mover": {"reprice_pct": -5, "floor": floor}},
            "account": {"seller_id": seller, "marketplace_id": MARKETPLACE_ID},
            "credentials": dict(AMAZON_CREDENTIALS),
            "dry_run": dry_run,
        },
        "ebay": {
            "insights": ["out_of_stock", "slow_mover", "reallocation_candidate"],
            "actions": {
                "out_of_stock": "delist",
                "slow_mover": {"reprice_pct": -10, "floor": floor},
                "reallocation": "pull" if pull else "none",
            },
            "credentials": dict(EBAY_CREDENTIALS),
            "dry_run": dry_run,
        },
        "woot": {
            "insights": ["out_of_stock", "slow_mover"],
            "actions": {"out_of_stock": "pause", "slow_mover": {"reprice_pct": -20}},
            "dry_run": dry_run,
        },
    }


def tenant_config(tenant: str, channels: dict[str, Any], min_price: str = "5.00") -> dict[str, Any]:
    config = {
        "tenant_id": tenant,
        "vendors": [
            {
                "vendor_id": "v1",
                "parser": {"column_map": {"sku": "SKU", "quantity_available": "QTY"}},
            }
        ],
        "pricing": {"base_margin_pct": 0.2, "min_price": min_price},
        "output": {"columns": ["sku", "quantity_available", "price", "map_price"]},
        "channels": channels,
    }
    return SecretsBox(SECRET_KEY).seal_config(config)


async def start_tenant(
    service: Service, tenant: str, channels: dict[str, Any], rows: list[str], **config: Any
) -> None:
    """Config version 1 and a merged feed, announced by offers.merged; returns once the
    service has taken both in."""
    await TenantConfigStore(service.store).save(
        tenant, 1, tenant_config(tenant, channels, **config)
    )
    key = keys.output_key(tenant, "run-1", "merged_inventory.csv")
    body = MERGED_HEADER + "".join(f"{row}\n" for row in rows)
    await service.store.put_bytes(key, body.encode())
    event = OffersMerged(
        event_id=f"{subjects.OFFERS_MERGED}:{tenant}:run-1",
        occurred_at=T0,
        tenant_id=tenant,
        correlation_id="corr-run-1",
        run_id="run-1",
        config_version=1,
        merged_key=key,
        summary_key=keys.report_key(tenant, "run-1", "run_summary.json"),
        errors_key=keys.report_key(tenant, "run-1", "errors.json"),
        merged_rows=len(rows),
        skus_left_out=0,
        vendors={},
    )
    seq = await publish(service.client, service.stream, event)
    await wait_consumed(service.client, service.stream, "channels-offers-merged", seq)


def insight(
    tenant: str,
    channel: str,
    sku: str,
    kind: str = "out_of_stock",
    status: str = "open",
    quantity: int = 0,
    quantity_now: int | None = None,
) -> InsightGenerated:
    insight_id = f"ins-{tenant}-{channel}-{sku}-{kind}"
    now = {} if quantity_now is None else {"quantity_now": quantity_now}
    return InsightGenerated(
        event_id=f"{subjects.INSIGHT_GENERATED}:{insight_id}:{status}",
        occurred_at=T0,
        tenant_id=tenant,
        correlation_id=f"corr-{insight_id}",
        insight_id=insight_id,
        channel=channel,
        sku=sku,
        kind=kind,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        since=T0,
        detail={"quantity": quantity, **now},
    )


def reallocation_opened(
    tenant: str, entry: str, origin: str, target: str | None
) -> ReallocationChanged:
    return ReallocationChanged(
        event_id=f"{subjects.REALLOCATION_CHANGED}:{entry}:open",
        occurred_at=T0,
        tenant_id=tenant,
        correlation_id=f"corr-{entry}",
        entry_id=entry,
        origin=origin,
        target=target,
        sku="SKU-R",
        quantity=4,
        reason="slow_mover",
        state="open",
    )


async def acted(
    service: Service, tenant: str, count: int, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """The tenant's first ``count`` channel.acted events, without their time and duration
    (checked to be there)."""
    mine: list[dict[str, Any]] = []

    def enough(payload: dict[str, Any]) -> bool:
        if payload["tenant_id"] == tenant:
            mine.append(payload)
        return len(mine) >= count

    await collect(
        service.client, service.stream, subjects.CHANNEL_ACTED, until=enough, timeout=timeout
    )
    for event in mine:
        assert isinstance(event.pop("duration_ms"), int)
        assert isinstance(event.pop("occurred_at"), str)
    return mine


async def tenant_events(service: Service, tenant: str, subject: str) -> list[dict[str, Any]]:
    """Every message of ``subject`` of the tenant the stream holds now."""
    return [
        e
        for e in await stream_events(service.client, service.stream, subject)
        if e["tenant_id"] == tenant
    ]


async def audit_rows(service: Service, tenant: str) -> list[tuple[Any, ...]]:
    rows = await service.db.fetch(
        "SELECT channel, sku, action, outcome, attempts FROM actions WHERE tenant_id = $1"
        " ORDER BY channel, sku, action",
        tenant,
    )
    return [tuple(row) for row in rows]
