"""Postgres adapter (schema ``insights``): products, order lines, insights, outbox rows.

Every change of a tenant happens in one :class:`TenantUnit`: a transaction that first takes a
transaction-scoped advisory lock on the tenant, so an order and a merged feed of the same
tenant (or two replicas) never interleave their read-modify-write of quantities.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import structlog

from relay_insights.domain.allocation import ChannelQuantity
from relay_insights.domain.merged_feed import MergedOffers
from relay_insights.domain.orders import OrderLine
from relay_insights.domain.products import Product
from relay_insights.domain.transitions import Transition
from relay_shared.events import Event
from relay_shared.outbox import Outbox

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
_PRODUCT_COLUMNS = "channel, sku, title, price, quantity, status, listed_date, last_sold_at"

log = structlog.get_logger(__name__)


_LOCK = "SELECT pg_advisory_xact_lock($1)"
#: The lock, and, until the transaction ends (``is_local``), each statement run with the plan
#: made once for any parameters (cached with the connection's prepared statement), not planned
#: again for each execution's values. For an order's few skus the evaluation query took longer
#: to plan than to run: 1.1-1.6 ms an evaluation against 0.3-0.5 ms with its generic plan
#: (10 tenants of 500 products, and with one of 300,000 products and 60,000 open insights
#: beside them: the generic plan looks the skus up by index, as the custom one does; on the
#: webhook bench's own data under its load, 3.6-3.9 ms against 1.3-2.0 ms). Only for orders:
#: the evaluation of a feed's or a listings file's many skus keeps plans made for its values.
_LOCK_GENERIC = (
    "SELECT pg_advisory_xact_lock($1), set_config('plan_cache_mode', 'force_generic_plan', true)"
)


@dataclass(frozen=True)
class LatestMergedRun:
    """The tenant's latest merged run insights has taken its products from."""

    config_version: int
    run_id: str
    merged_at: datetime


class InsightsDatabase:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def tenant(
        self, tenant_id: str, *, generic_plans: bool = False
    ) -> AsyncIterator[TenantUnit]:
        """A transaction holding the tenant's lock; committed when the block exits cleanly.
        ``generic_plans``: its statements run their cached generic plans (:data:`_LOCK_GENERIC`)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_LOCK_GENERIC if generic_plans else _LOCK, _lock_key(tenant_id))
            unit = TenantUnit(conn, tenant_id)
            yield unit
        if unit.inserted >= ANALYZE_AFTER_INSERTS:
            await self._analyze_products()

    async def _analyze_products(self) -> None:
        """Fresh planner statistics after a large insert, outside the tenant's transaction (an
        ANALYZE inside it would hold its table lock until commit, and another tenant's large
        feed would wait for it).
        Until autovacuum catches up, the statistics of a table that just tripled say it is
        tiny, and the next feed's UPDATE loops over an index: 94 s instead of 10 s for 3M
        products. A failure is logged, not raised: the feed is applied, and autovacuum will
        analyse the table too."""
        try:
            async with self._pool.acquire() as conn:
                await conn.execute("ANALYZE products")
        except (asyncpg.PostgresError, OSError) as exc:  # the feed is applied: only log it
            log.warning("products.analyze_failed", error=str(exc))

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A plain transaction (no tenant lock): for single-statement atomic changes."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    async def tenant_state(self, tenant_id: str) -> LatestMergedRun | None:
        async with self._pool.acquire() as conn:
            return await TenantUnit(conn, tenant_id).tenant_state()


class TenantUnit:
    """The queries of one tenant inside its locked transaction."""

    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self.tenant_id = tenant_id
        #: products this unit inserted from merged feeds
        self.inserted = 0
        #: the announced and held counts by local day (channel → (sent, held)) as this unit
        #: read or last saved them: it holds the tenant's lock, nobody else writes them meanwhile
        self.announced: dict[date, dict[str, tuple[int, int]]] = {}

    @property
    def conn(self) -> Connection:
        """The unit's connection, in its transaction (for the other query modules)."""
        return self._conn

    async def claim_event(self, event_id: str) -> bool:
        """Record ``event_id`` as processed; False when it already was."""
        inserted = await self._conn.fetchval(
            "INSERT INTO processed_events (tenant_id, event_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            self.tenant_id,
            event_id,
        )
        return bool(inserted)

    async def tenant_state(self) -> LatestMergedRun | None:
        row = await self._conn.fetchrow(
            "SELECT config_version, run_id, merged_at FROM tenants WHERE tenant_id = $1",
            self.tenant_id,
        )
        if row is None:
            return None
        return LatestMergedRun(row["config_version"], row["run_id"], row["merged_at"])

    async def save_tenant_state(self, state: LatestMergedRun) -> None:
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
        rows = await self._conn.fetch(PRODUCTS_OF_SKUS, self.tenant_id, list(skus))
        return [_product(row) for row in rows]

    async def apply_merged_offers(
        self, offers: MergedOffers, quantities: Sequence[ChannelQuantity], at: datetime
    ) -> str:
        """Every enabled channel's products of the feed's skus, as
        :mod:`relay_insights.domain.allocation` says: the offers (as csv) and the quantity
        table are copied into temporary tables dropped at commit; one UPDATE and one INSERT
        join them (a million skus × 3 channels without a Python object per product; the
        tenant's lock keeps the two statements in step)."""
        await self._conn.execute(_STAGE_OFFERS)
        data = io.BytesIO()
        offers.frame.write_csv(data)
        data.seek(0)
        await self._conn.copy_to_table(
            "merged_offers", source=data, schema_name="pg_temp", format="csv", header=True
        )
        await self._conn.copy_records_to_table(
            "channel_quantities",
            schema_name="pg_temp",
            records=[(q.channel, q.merged_quantity, q.quantity) for q in quantities],
        )
        await self._conn.execute("ANALYZE pg_temp.merged_offers, pg_temp.channel_quantities")
        await self._conn.execute(_UPDATE_OFFERED, self.tenant_id, at)
        status = await self._conn.execute(_INSERT_NEW, self.tenant_id, at)
        self.inserted += int(status.split()[-1])
        return "pg_temp.merged_offers"

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
        """Insert the lines not yet recorded, in one statement; returns those (a re-sent
        order: none). The lines are an order's, one per sku (:func:`order_lines`)."""
        if not lines:
            return []
        rows = await self._conn.fetch(
            "INSERT INTO order_lines (tenant_id, order_id, sku, channel, quantity, shipped_at,"
            " problem, event_id) SELECT $1, u.*, $2 FROM unnest($3::text[], $4::text[],"
            " $5::text[], $6::int[], $7::timestamptz[], $8::text[]) AS u"
            " ON CONFLICT (tenant_id, order_id, sku) DO NOTHING RETURNING order_id, sku",
            self.tenant_id,
            event_id,
            [line.order_id for line in lines],
            [line.sku for line in lines],
            [line.channel for line in lines],
            [line.quantity for line in lines],
            [line.shipped_at for line in lines],
            [line.problem for line in lines],
        )
        created = {(row["order_id"], row["sku"]) for row in rows}
        return [line for line in lines if (line.order_id, line.sku) in created]

    async def record_transitions(
        self, transitions: Sequence[Transition], events: Sequence[Event]
    ) -> None:
        """Store the insights' new states (openings copied in, resolutions in one update) and
        their events in the outbox (same transaction)."""
        opened = [t for t in transitions if t.status == "open"]
        resolved = [t for t in transitions if t.status == "resolved"]
        if opened:
            await self._conn.copy_records_to_table(
                "insights",
                columns=_OPEN_COLUMNS,
                records=[_open_record(self.tenant_id, t) for t in opened],
            )
        if resolved:
            await self._conn.execute(
                "UPDATE insights AS i SET status = 'resolved', resolved_at = $2,"
                " transitions = u.number FROM unnest($1::text[], $3::int[]) AS u(id, number)"
                " WHERE i.insight_id = u.id AND i.status = 'open'",
                [t.insight_id for t in resolved],
                resolved[0].at,
                [t.number for t in resolved],
            )
        await Outbox.add(self._conn, *events)

    async def follow_action(
        self, channel: str, sku: str, status: str | None, price: Decimal | None, at: datetime
    ) -> Product | None:
        """The listing's status and price as the marketplace accepted them (None keeps
        what it was); the product after, None when the channel does not list the sku."""
        row = await self._conn.fetchrow(
            "UPDATE products SET status = COALESCE($4, status), price = COALESCE($5, price),"
            " updated_at = $6 WHERE tenant_id = $1 AND channel = $2 AND sku = $3"
            f" RETURNING {_PRODUCT_COLUMNS}",
            self.tenant_id,
            channel,
            sku,
            status,
            price,
            at,
        )
        return None if row is None else _product(row)

    async def purge_resolved(self, before: datetime) -> int:
        """Delete the tenant's insights resolved before ``before``; how many."""
        deleted = await self._conn.fetchval(
            "WITH gone AS (DELETE FROM insights WHERE tenant_id = $1 AND status = 'resolved'"
            " AND resolved_at < $2 RETURNING 1) SELECT count(*) FROM gone",
            self.tenant_id,
            before,
        )
        return int(deleted or 0)


#: products inserted by one unit past which the table's statistics are refreshed
ANALYZE_AFTER_INSERTS = 100_000
_STAGE_OFFERS = """
CREATE TEMPORARY TABLE IF NOT EXISTS merged_offers
    (sku text, quantity bigint, title text, price text) ON COMMIT DROP;
CREATE TEMPORARY TABLE IF NOT EXISTS channel_quantities
    (channel text, merged_quantity bigint, quantity bigint) ON COMMIT DROP;
TRUNCATE pg_temp.merged_offers, pg_temp.channel_quantities;
"""
#: an existing product keeps its status, listing date and last sale; its title and price
#: follow the feed where the feed has them (an UPDATE, then an INSERT of the rest)
_UPDATE_OFFERED = """
UPDATE products AS p SET
    title = COALESCE(o.title, p.title), price = COALESCE(o.price::numeric, p.price),
    quantity = q.quantity, updated_at = $2
FROM pg_temp.merged_offers AS o
JOIN pg_temp.channel_quantities AS q ON q.merged_quantity = o.quantity
WHERE p.tenant_id = $1 AND p.channel = q.channel AND p.sku = o.sku
"""
#: a new product is listed at the feed's time, active
_INSERT_NEW = """
INSERT INTO products (tenant_id, channel, sku, title, price, quantity, status, listed_date,
    last_sold_at, updated_at)
SELECT $1, q.channel, o.sku, o.title, o.price::numeric, q.quantity, 'active', $2, NULL, $2
FROM pg_temp.merged_offers AS o
JOIN pg_temp.channel_quantities AS q ON q.merged_quantity = o.quantity
WHERE NOT EXISTS (
    SELECT FROM products AS p WHERE p.tenant_id = $1 AND p.channel = q.channel AND p.sku = o.sku
)
"""

#: Every channel's listing of some skus: ``sku = ANY`` is a condition of the index scan
#: (``sku IN (SELECT unnest(…))`` was a semi-join, and the generic plan of an order's
#: transaction read every product of the tenant for it)
PRODUCTS_OF_SKUS = (
    f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1"
    " AND sku = ANY($2::text[]) ORDER BY sku, channel"
)

_OPEN_COLUMNS = [
    "insight_id",
    "tenant_id",
    "channel",
    "sku",
    "kind",
    "status",
    "opened_at",
    "detail",
    "transitions",
    "announced",
]


def _open_record(tenant_id: str, t: Transition) -> tuple[Any, ...]:
    detail = json.dumps(t.detail, sort_keys=True)
    return (
        t.insight_id,
        tenant_id,
        t.channel,
        t.sku,
        t.kind,
        "open",
        t.at,
        detail,
        t.number,
        t.announced,
    )


def _product(row: Any) -> Product:
    # positional (the order of _PRODUCT_COLUMNS): a daily evaluation reads many thousands
    channel, sku, title, price, quantity, status, listed_date, last_sold_at = row
    return Product(channel, sku, title, price, quantity, status, listed_date, last_sold_at)


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
