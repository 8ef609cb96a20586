"""What an evaluation changes, found by one set-based query over the tenant's products (all of
them, or those of some skus) and their open insights: the insights to open (a rule holds, no
insight of that kind is open) and those to resolve (open, the rule no longer holds for a
product that exists), at the grain of (channel, sku, kind).

The rules are those of :mod:`relay_insights.domain.rules` with the same cutoffs (given as
parameters, compared the same way, channels ordered by code point like Python's ``min``):
out of stock, slow mover, aged, and a reallocation candidate (slow or aged) with its target
(another channel of the sku out of stock of it, else the one that sold it last, ties by channel
name). A product whose kinds did not change has no transition: an open insight keeps the
detail it opened with. Rows come back ordered by sku, then channel, resolutions first, so an
evaluation announces its openings in the order the pure rules list them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relay_insights.adapters.database import Connection
from relay_insights.domain.transitions import Ending, Opening

#: the products (of the skus in $4 when filtered) with their rules' facts, the channels that
#: want a sku's stock ranked like ``reallocation_target``, and every (channel, sku, kind) held
_HELD = """
WITH p AS MATERIALIZED (
    SELECT channel, sku, quantity, status, listed_date, last_sold_at,
        (status IN ('active', 'paused') AND quantity = 0) AS out_of_stock,
        (status = 'active' AND quantity > 0 AND listed_date <= $2
            AND (last_sold_at IS NULL OR last_sold_at <= $2)) AS slow,
        (quantity > 0 AND listed_date < $3) AS aged,
        COALESCE(last_sold_at > $2, false) AS sold_recently
    FROM products WHERE tenant_id = $1 {only}
), wanting AS MATERIALIZED (
    SELECT sku, channel, out_of_stock, row_number() OVER (PARTITION BY sku
        ORDER BY out_of_stock DESC, CASE WHEN NOT out_of_stock THEN last_sold_at END DESC,
                 channel COLLATE "C") AS place
    FROM p WHERE out_of_stock OR sold_recently
), facts AS (
    SELECT p.*, CASE WHEN first.channel <> p.channel THEN first.channel
                     ELSE second.channel END AS target,
                CASE WHEN first.channel <> p.channel THEN first.out_of_stock
                     ELSE second.out_of_stock END AS target_out_of_stock
    FROM p
    LEFT JOIN wanting AS first ON (p.slow OR p.aged) AND first.sku = p.sku AND first.place = 1
    LEFT JOIN wanting AS second ON (p.slow OR p.aged) AND second.sku = p.sku
        AND second.place = 2
), held AS (
    SELECT f.channel, f.sku, k.kind, k.rank, f.quantity, f.listed_date, f.last_sold_at, f.slow,
        f.target, f.target_out_of_stock
    FROM facts AS f CROSS JOIN LATERAL (VALUES
        ('out_of_stock', 0, f.out_of_stock),
        ('slow_mover', 1, f.slow),
        ('aged', 2, f.aged),
        ('reallocation_candidate', 3, (f.slow OR f.aged) AND f.target IS NOT NULL)
    ) AS k(kind, rank, holds)
    WHERE k.holds
), open AS (
    {open_insights}
)
"""
_OPEN_INSIGHTS = """SELECT insight_id, channel, sku, kind, transitions, announced
    FROM insights WHERE tenant_id = $1 AND status = 'open' {only}"""
#: the open insights of a few skus (an array), read sku by sku through (tenant_id, sku): as
#: ``sku = ANY`` in the full join, the planner read them through the index sorted as the join
#: wanted, by the tenant alone, every open insight of the tenant for each order (685 index
#: entries an order on the webhook bench; a catalogue with thousands of slow movers, as many).
#: ``OFFSET 0`` keeps the lateral subquery a scan per sku.
_OPEN_INSIGHTS_OF_SKUS = """SELECT i.insight_id, i.channel, i.sku, i.kind, i.transitions,
        i.announced
    FROM (SELECT DISTINCT unnest($4::text[]) AS sku) AS s
    CROSS JOIN LATERAL (
        SELECT insight_id, channel, sku, kind, transitions, announced FROM insights
        WHERE tenant_id = $1 AND status = 'open' AND sku = s.sku OFFSET 0
    ) AS i"""
#: the memory the query's sorts and hashes may take (for its transaction only): a catalogue of
#: 300,000 products and as many open insights would spill to disk with the default 4MB
WORK_MEM = "64MB"
#: an evaluation of at most this many skus (an order's, an action's) keeps the default
#: work_mem (its rows fit: it saves the statement, one more round trip per order) and fetches
#: its few transitions at once (a cursor takes two round trips: bind, then fetch)
FEW_SKUS = 1_000
#: from this many skus on, an evaluation's skus are staged in a temporary table: the planner
#: guesses 200 rows for an array's ``unnest`` and loops over an index for each of a million
#: skus (a 1M-sku feed's evaluation: 18 s, against 9 s by a hash join on the staged table)
STAGE_SKUS_FROM = 10_000


@dataclass(frozen=True)
class SkuScope:
    """The products an evaluation looks at: every one of the tenant (neither set), those of
    ``skus`` (an array parameter), or those of the skus in the temporary ``table`` (of this
    transaction: :func:`sku_scope`'s, or a merged feed's staged offers)."""

    skus: list[str] | None = None
    table: str | None = None

    @property
    def staged(self) -> bool:
        return self.table is not None

    def condition(self, parameter: int) -> str:
        """The filter on ``sku``, its array (if any) being parameter ``$parameter``: ``sku =
        ANY`` is a condition of the index scan (``sku IN (SELECT unnest(…))`` was a
        semi-join, and an order's evaluation, planned generic, read every product of the
        tenant: 500 index entries for each order on the webhook bench)."""
        if self.table is not None:
            return f"AND sku IN (SELECT sku FROM {self.table})"
        if self.skus is None:
            return ""
        return f"AND sku = ANY(${parameter}::text[])"

    @property
    def args(self) -> list[list[str]]:
        return [] if self.skus is None else [self.skus]


EVERY_SKU = SkuScope()


async def sku_scope(conn: Connection, skus: Collection[str] | SkuScope | None) -> SkuScope:
    """The scope of ``skus`` (None: every product; a scope: itself), staged in a temporary
    table dropped at commit when there are many."""
    if isinstance(skus, SkuScope):
        return skus
    if skus is None:
        return EVERY_SKU
    if len(skus) < STAGE_SKUS_FROM:
        return SkuScope(list(skus))
    await conn.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS evaluated_skus (sku text) ON COMMIT DROP;"
        " TRUNCATE pg_temp.evaluated_skus"
    )
    await conn.copy_records_to_table(
        "evaluated_skus", schema_name="pg_temp", records=((sku,) for sku in skus)
    )
    await conn.execute("ANALYZE pg_temp.evaluated_skus")
    return SkuScope(table="pg_temp.evaluated_skus")


#: the transitions: resolutions (with the product's state now), then openings (with the facts
#: their detail is made of), by sku and channel
_DIFFERENCES = """
SELECT d.sku, d.channel, d.step, d.kind, d.rank, d.insight_id, d.transitions, d.announced,
    CASE WHEN d.announced THEN (SELECT i.detail::text FROM insights AS i
                                WHERE i.insight_id = d.insight_id) END AS detail,
    p.status AS status_now, p.quantity AS quantity_now, d.quantity, d.listed_date,
    d.last_sold_at, d.slow, d.target, d.target_out_of_stock
FROM (
    SELECT COALESCE(h.sku, o.sku) AS sku, COALESCE(h.channel, o.channel) AS channel,
        CASE WHEN o.insight_id IS NULL THEN 1 ELSE 0 END AS step,
        COALESCE(h.kind, o.kind) AS kind, h.rank, o.insight_id, o.transitions, o.announced,
        h.quantity, h.listed_date, h.last_sold_at, h.slow, h.target, h.target_out_of_stock
    FROM held AS h FULL JOIN open AS o
        ON h.channel = o.channel AND h.sku = o.sku AND h.kind = o.kind
    WHERE h.kind IS NULL OR o.insight_id IS NULL
) AS d
LEFT JOIN p ON d.step = 0 AND p.channel = d.channel AND p.sku = d.sku
WHERE d.step = 1 OR p.sku IS NOT NULL
ORDER BY d.sku, d.channel, d.step, d.rank, d.kind
"""


@asynccontextmanager
async def bulk_plans(conn: Connection, scope: SkuScope) -> AsyncIterator[None]:
    """Statements planned inside (planning happens at bind: a cursor is planned once opened)
    join without nested loops when ``scope`` is many skus (staged) or the whole tenant.

    The planner sizes a tenant's products from the table's statistics, which know nothing of
    a tenant whose first feed this transaction has just inserted (nor, until the next
    ANALYZE, of one that grew since): it then expects one product, and loops over the staged
    skus for each product, and over the products for each insight. For a new tenant's first
    feed of 20,000 skus on two channels the product count alone took 33 s (0.04 s by a hash
    join), and the evaluation did not end within 5 minutes (3.3 s); the time grows with the
    square of the feed. Over many skus a hash join is right whatever the statistics say; a
    scope of a few skus (an array) keeps its index lookups. Restored before the block's next
    statements (the transaction's writes keep their plans); on an error the transaction is
    rolled back, and the setting with it."""
    if scope.skus is not None:
        yield
        return
    await conn.execute("SET LOCAL enable_nestloop = off")
    yield
    await conn.execute("SET LOCAL enable_nestloop TO DEFAULT")


def _query(body: str, scope: SkuScope) -> tuple[str, list[Any]]:
    """``body`` after the CTEs of ``scope``'s products and open insights."""
    only = scope.condition(4)
    if scope.skus is not None:
        open_insights = _OPEN_INSIGHTS_OF_SKUS
    else:
        open_insights = _OPEN_INSIGHTS.format(only=only)
    return _HELD.format(only=only, open_insights=open_insights) + body, list(scope.args)


async def differences(
    conn: Connection,
    tenant_id: str,
    cutoffs: tuple[datetime, datetime],
    scope: SkuScope,
    size: int,
) -> AsyncIterator[list[Ending | Opening]]:
    """What changes among the tenant's products in ``scope`` as of the cutoffs (slow, aged):
    in batches of at most ``size``, in the order of ``_DIFFERENCES``; fetched at once for
    :data:`FEW_SKUS` or fewer, else through a cursor (memory stays bounded)."""
    query, more = _query(_DIFFERENCES, scope)
    if scope.skus is not None and len(scope.skus) <= FEW_SKUS:
        rows = await conn.fetch(query, tenant_id, *cutoffs, *more)
        for start in range(0, len(rows), size):
            yield [_difference(row) for row in rows[start : start + size]]
        return
    await conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")  # the joins' hashes fit in memory
    async with bulk_plans(conn, scope):
        cursor = await conn.cursor(query, tenant_id, *cutoffs, *more)
    while True:
        rows = await cursor.fetch(size)
        if rows:
            yield [_difference(row) for row in rows]
        if len(rows) < size:
            return


def _difference(row: Any) -> Ending | Opening:
    # positional (the order of _DIFFERENCES' columns): a daily evaluation reads many thousands
    (sku, channel, step, kind, _, iid, number, announced, detail, status_now, quantity_now,
     quantity, listed, sold, slow, target, target_out) = row  # fmt: skip
    if step == 0:
        return Ending(iid, channel, sku, kind, number, announced, detail, status_now, quantity_now)
    return Opening(channel, sku, kind, quantity, listed, sold, slow, target, target_out)


async def product_count(conn: Connection, tenant_id: str, scope: SkuScope) -> int:
    """How many products the tenant has in ``scope``."""
    async with bulk_plans(conn, scope):
        total = await conn.fetchval(
            f"SELECT count(*) FROM products WHERE tenant_id = $1 {scope.condition(2)}",
            tenant_id,
            *scope.args,
        )
    return int(total or 0)


async def changed_skus(
    conn: Connection, tenant_id: str, slow_cutoff: datetime, aged_cutoff: datetime
) -> tuple[list[str], int]:
    """The skus with a product whose kinds changed, and how many products the tenant has."""
    query, _ = _query(_DIFFERENCES, EVERY_SKU)
    async with bulk_plans(conn, EVERY_SKU):
        rows = await conn.fetch(
            f"SELECT DISTINCT sku FROM ({query}) AS t", tenant_id, slow_cutoff, aged_cutoff
        )
    return [row["sku"] for row in rows], await product_count(conn, tenant_id, EVERY_SKU)
