"""Webhook receipts: the event ids already published (schema ``gateway``).

The webhook's two statements are group-committed (:mod:`relay_shared.group_commit`):
concurrent requests look up their tenant and receipt in one statement, and record their
receipts in one statement. Each answer is the one the single-row statement gives:
:meth:`ReceiptsRepository.lookup` is ``tenants.get`` and ``seen`` read together, and
:meth:`ReceiptsRepository.record` is True for exactly one of several requests recording the
same event (the first of a batch, or the batch that inserted it).

Each of the two statements runs on a connection of its own, held between batches
(:class:`~relay_gateway.adapters.held_connection.HeldConnection`: no reset round trip after
each); :meth:`ReceiptsRepository.close` gives both back before the pool closes.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from relay_gateway.adapters.held_connection import HeldConnection
from relay_gateway.adapters.tenants import Tenant
from relay_shared.group_commit import GroupCommit

#: Each request's tenant and whether its event was received are probes of the two tables'
#: primary keys (``LATERAL`` subqueries with ``LIMIT``, which the planner cannot turn into
#: joins): as joins, or as an ``EXISTS`` (which it may hash), the planner, taking the tables
#: for small ones when the statement was planned, read every tenant and every receipt for
#: every batch however many there were by then (42 million receipts read over a 30 s run of
#: ``tests/bench/bench_webhook.py``; every tenant, 10 there, as many as there are).
_LOOKUP = """
SELECT t.tenant_id, t.name, t.channels, t.config_version, r.seen IS NOT NULL AS seen
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q (tenant_id, event_id, n)
LEFT JOIN LATERAL (
    SELECT tenant_id, name, channels, config_version FROM tenants
    WHERE tenant_id = q.tenant_id LIMIT 1
) t ON true
LEFT JOIN LATERAL (
    SELECT true AS seen FROM webhook_receipts
    WHERE tenant_id = q.tenant_id AND event_id = q.event_id LIMIT 1
) r ON true
ORDER BY q.n
"""
_RECORD = """
INSERT INTO webhook_receipts (tenant_id, event_id, kind)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
ON CONFLICT (tenant_id, event_id) DO NOTHING
RETURNING tenant_id, event_id
"""


@dataclass(frozen=True)
class Lookup:
    """A webhook's tenant (None when there is no such tenant) and whether the event was
    already received."""

    tenant: Tenant | None
    seen: bool


Key = tuple[str, str]
Receipt = tuple[str, str, str]


class ReceiptsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._lookup_connection = HeldConnection(pool)
        self._record_connection = HeldConnection(pool)
        self._lookups = GroupCommit[Key, Lookup](self._lookup_batch)
        self._records = GroupCommit[Receipt, bool](self._record_batch)

    async def close(self) -> None:
        """Give the held connections back to the pool (before it closes)."""
        await self._lookup_connection.close()
        await self._record_connection.close()

    async def lookup(self, tenant_id: str, event_id: str) -> Lookup:
        """The tenant and whether ``event_id`` was already received, in one statement."""
        return await self._lookups.submit((tenant_id, event_id))

    async def seen(self, tenant_id: str, event_id: str) -> bool:
        return (await self.lookup(tenant_id, event_id)).seen

    async def record(self, tenant_id: str, event_id: str, kind: str) -> bool:
        """True when this is the first receipt of the event."""
        return await self._records.submit((tenant_id, event_id, kind))

    async def _lookup_batch(self, keys: list[Key]) -> list[Lookup]:
        rows = await self._lookup_connection.fetch(
            _LOOKUP, [k[0] for k in keys], [k[1] for k in keys]
        )
        return [Lookup(_tenant(row), row["seen"]) for row in rows]

    async def _record_batch(self, receipts: list[Receipt]) -> list[bool]:
        rows = await self._record_connection.fetch(
            _RECORD, *(list(column) for column in zip(*receipts, strict=True))
        )
        inserted = {(row["tenant_id"], row["event_id"]) for row in rows}
        return first_receipts(receipts, inserted)


def first_receipts(receipts: list[Receipt], inserted: set[Key]) -> list[bool]:
    """True for the first of the batch's receipts of each event the statement inserted."""
    answers: list[bool] = []
    for tenant_id, event_id, _ in receipts:
        answers.append((tenant_id, event_id) in inserted)
        inserted.discard((tenant_id, event_id))
    return answers


def _tenant(row: asyncpg.Record) -> Tenant | None:
    if row["tenant_id"] is None:
        return None
    return Tenant(row["tenant_id"], row["name"], list(row["channels"]), row["config_version"])
