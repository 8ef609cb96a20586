"""Postgres adapter (schema ``insights``): products, order lines, insights, outbox rows.

Every change of a tenant happens in one :class:`TenantUnit`: a transaction that first takes a
transaction-scoped advisory lock on the tenant, so an order and a merged feed of the same
tenant (or two replicas) never interleave their read-modify-write of quantities.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from relay_insights.domain.orders import OrderLine
from relay_insights.domain.products import Product
from relay_insights.domain.transitions import OpenInsight, Transition
from relay_shared.events import InsightGenerated
from relay_shared.outbox import Outbox

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
_PRODUCT_COLUMNS = "channel, sku, title, price, quantity, status, listed_date, last_sold_at"


@dataclass(frozen=True)
class TenantState:
    config_version: int
    run_id: str
    merged_at: datetime


class InsightsDatabase:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def tenant(self, tenant_id: str) -> AsyncIterator[TenantUnit]:
        """A transaction holding the tenant's lock; committed when the block exits cleanly."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(tenant_id))
            yield TenantUnit(conn, tenant_id)

    async def tenant_state(self, tenant_id: str) -> TenantState | None:
        async with self._pool.acquire() as conn:
            return await TenantUnit(conn, tenant_id).tenant_state()


class TenantUnit:
    """The queries of one tenant inside its locked transaction."""

    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self.tenant_id = tenant_id

    async def claim_event(self, event_id: str) -> bool:
        """Record ``event_id`` as processed; False when it already was."""
        inserted = await self._conn.fetchval(
            "INSERT INTO processed_events (tenant_id, event_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            self.tenant_id,
            event_id,
        )
        return bool(inserted)

    async def tenant_state(self) -> TenantState | None:
        row = await self._conn.fetchrow(
            "SELECT config_version, run_id, merged_at FROM tenants WHERE tenant_id = $1",
            self.tenant_id,
        )
        if row is None:
            return None
        return TenantState(row["config_version"], row["run_id"], row["merged_at"])

    async def save_tenant_state(self, state: TenantState) -> None:
        await self._conn.execute(
            "INSERT INTO tenants (tenant_id, config_version, run_id, merged_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET"
            " config_version = EXCLUDED.config_version, run_id = EXCLUDED.run_id,"
            " merged_at = EXCLUDED.merged_at",
            self.tenant_id,
            state.config_version,
            state.run_id,
            state.merged_at,
        )

    async def products(self, skus: Collection[str]) -> list[Product]:
        """Every channel's listing of ``skus``, ordered by sku then channel."""
        rows = await self._conn.fetch(
            f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1"
            " AND sku = ANY($2::text[]) ORDER BY sku, channel",
            self.tenant_id,
            list(skus),
        )
        return [_product(row) for row in rows]

    async def upsert_products(self, products: Sequence[Product], now: datetime) -> None:
        await self._conn.executemany(
            "INSERT INTO products (tenant_id, channel, sku, title, price, quantity, status,"
            " listed_date, last_sold_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
            " $9, $10) ON CONFLICT (tenant_id, channel, sku) DO UPDATE SET"
            " title = EXCLUDED.title, price = EXCLUDED.price, quantity = EXCLUDED.quantity,"
            " status = EXCLUDED.status, last_sold_at = EXCLUDED.last_sold_at,"
            " updated_at = EXCLUDED.updated_at",
            [_product_row(self.tenant_id, p, now) for p in products],
        )

    async def insert_order_lines(
        self, lines: Sequence[OrderLine], event_id: str
    ) -> list[OrderLine]:
        """Insert the lines not yet recorded; returns those (a re-sent order: none)."""
        inserted: list[OrderLine] = []
        for line in lines:
            created = await self._conn.fetchval(
                "INSERT INTO order_lines (tenant_id, order_id, sku, channel, quantity,"
                " shipped_at, problem, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (tenant_id, order_id, sku) DO NOTHING RETURNING true",
                self.tenant_id,
                line.order_id,
                line.sku,
                line.channel,
                line.quantity,
                line.shipped_at,
                line.problem,
                event_id,
            )
            if created:
                inserted.append(line)
        return inserted

    async def open_insights(self, skus: Collection[str]) -> list[OpenInsight]:
        rows = await self._conn.fetch(
            "SELECT insight_id, channel, sku, kind, opened_at, transitions, detail FROM insights"
            " WHERE tenant_id = $1 AND status = 'open' AND sku = ANY($2::text[])"
            " ORDER BY sku, channel, kind",
            self.tenant_id,
            list(skus),
        )
        return [
            OpenInsight(
                insight_id=row["insight_id"],
                channel=row["channel"],
                sku=row["sku"],
                kind=row["kind"],
                opened_at=row["opened_at"],
                transitions=row["transitions"],
                detail=json.loads(row["detail"]),
            )
            for row in rows
        ]

    async def record_transitions(
        self, transitions: Sequence[Transition], events: Sequence[InsightGenerated]
    ) -> None:
        """Store the insights' new states and their events in the outbox (same transaction)."""
        for transition in transitions:
            if transition.status == "open":
                await self._open(transition)
            else:
                await self._conn.execute(
                    "UPDATE insights SET status = 'resolved', resolved_at = $2, transitions = $3"
                    " WHERE insight_id = $1 AND status = 'open'",
                    transition.insight_id,
                    transition.at,
                    transition.number,
                )
        await Outbox.add(self._conn, *events)

    async def _open(self, transition: Transition) -> None:
        await self._conn.execute(
            "INSERT INTO insights (insight_id, tenant_id, channel, sku, kind, status, opened_at,"
            " detail, transitions) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8)",
            transition.insight_id,
            self.tenant_id,
            transition.channel,
            transition.sku,
            transition.kind,
            transition.at,
            json.dumps(transition.detail, sort_keys=True),
            transition.number,
        )


def _product(row: Any) -> Product:
    return Product(
        channel=row["channel"],
        sku=row["sku"],
        title=row["title"],
        price=row["price"],
        quantity=row["quantity"],
        status=row["status"],
        listed_date=row["listed_date"],
        last_sold_at=row["last_sold_at"],
    )


def _product_row(tenant_id: str, p: Product, now: datetime) -> tuple[Any, ...]:
    return (
        tenant_id,
        p.channel,
        p.sku,
        p.title,
        p.price,
        p.quantity,
        p.status,
        p.listed_date,
        p.last_sold_at,
        now,
    )


def _lock_key(tenant_id: str) -> int:
    digest = hashlib.sha256(f"insights:tenant:{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
