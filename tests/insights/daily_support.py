"""What the daily-evaluation tests share: a movable clock (the offset file the insights
service reads each tick), listings and tenant events, and reading what insights decided."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from nats.aio.client import Client

from relay_insights.domain.transitions import insight_id
from relay_shared import subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import ListingsImported, TenantConfigured
from relay_shared.listings import Listing, Listings, canonical_csv, listings_key
from relay_shared.storage import ObjectStore
from tests.support.jetstream import collect, publish
from tests.support.polling import eventually_async


@dataclass
class TravelClock:
    """The offset file of the service's clock: ``travel`` moves every later tick ahead."""

    path: Path
    offset: timedelta = timedelta(0)

    def travel(self, days: float) -> None:
        self.offset += timedelta(days=days)
        self.path.write_text(str(self.offset.total_seconds()))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def daily_config(tenant_id: str, timezone: str, **insights: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "timezone": timezone,
        "vendors": [
            {"vendor_id": "v1", "parser": {"column_map": {"sku": "SKU", "quantity_available": "Q"}}}
        ],
        "pricing": {"base_margin_pct": 0.2},
        "output": {"columns": ["sku", "quantity_available", "price", "title"]},
        "channels": {"amazon": {}, "ebay": {}},
        "insights": insights,
    }


async def configure_tenant(
    client: Client, stream: str, store: ObjectStore, tenant_id: str, config: dict[str, Any]
) -> int:
    """Version 1 of the tenant's config in the bucket, announced like the gateway does."""
    await TenantConfigStore(store).save(tenant_id, 1, config)
    return await publish(
        client,
        stream,
        TenantConfigured(
            event_id=f"{subjects.TENANT_CONFIGURED}:{tenant_id}:1",
            occurred_at=datetime.now(UTC),
            tenant_id=tenant_id,
            correlation_id=f"corr-config-{tenant_id}",
            name=f"Tenant {tenant_id}",
            channels=["amazon", "ebay"],
            config_version=1,
        ),
    )


async def import_listings(
    client: Client,
    stream: str,
    store: ObjectStore,
    tenant_id: str,
    channel: str,
    items: list[Listing],
    at: datetime,
) -> int:
    """Store the channel's listings (canonical CSV) and announce them as the gateway does;
    the stream sequence."""
    data = canonical_csv(Listings(tuple(items)))
    sha = hashlib.sha256(data).hexdigest()
    key = listings_key(tenant_id, channel, sha)
    await store.put_bytes(key, data, content_type="text/csv")
    event = ListingsImported(
        event_id=f"{subjects.LISTINGS_IMPORTED}:{tenant_id}:{channel}:{sha}",
        occurred_at=at,
        tenant_id=tenant_id,
        correlation_id=f"corr-listings-{channel}",
        channel=channel,
        listings_key=key,
        sha256=sha,
        rows=len(items),
    )
    return await publish(client, stream, event)


async def evaluated_days(db: asyncpg.Connection, tenant_id: str) -> list[tuple[date, datetime]]:
    rows = await db.fetch(
        "SELECT local_day, as_of FROM daily_evaluations WHERE tenant_id = $1 ORDER BY local_day",
        tenant_id,
    )
    return [(row["local_day"], row["as_of"]) for row in rows]


async def next_daily(db: asyncpg.Connection, tenant_id: str, done: int) -> tuple[date, datetime]:
    """The tenant's daily evaluation after the ``done`` ones it had: (local day, as of)."""

    async def found() -> tuple[date, datetime] | None:
        days = await evaluated_days(db, tenant_id)
        return days[done] if len(days) > done else None

    return await eventually_async(found, timeout=60.0, what=f"daily evaluation {done + 1}")


async def events_of(
    client: Client, stream: str, subject: str, tenant_id: str, count: int
) -> list[dict[str, Any]]:
    """The tenant's first ``count`` events of ``subject``, in stream order."""
    mine: list[dict[str, Any]] = []

    def enough(payload: dict[str, Any]) -> bool:
        if payload["tenant_id"] == tenant_id:
            mine.append(payload)
        return len(mine) >= count

    await collect(client, stream, subject, until=enough, timeout=60.0)
    return mine


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def daily_trigger(tenant_id: str, day: date) -> str:
    return f"daily:{tenant_id}:{day.isoformat()}"


def expected(
    tenant_id: str,
    trigger: str,
    correlation: str,
    channel: str,
    sku: str,
    kind: str,
    status: str,
    at: datetime,
    detail: dict[str, Any],
    number: int = 1,
) -> dict[str, Any]:
    """The insight.generated event an opening (number 1) or resolution produces."""
    iid = insight_id(tenant_id, channel, sku, kind, trigger)
    return {
        "schema_version": 1,
        "event_id": f"insight.generated:{iid}:{number}:{status}",
        "occurred_at": stamp(at),
        "tenant_id": tenant_id,
        "correlation_id": correlation,
        "insight_id": iid,
        "channel": channel,
        "sku": sku,
        "kind": kind,
        "status": status,
        "since": stamp(at),
        "detail": detail,
    }
