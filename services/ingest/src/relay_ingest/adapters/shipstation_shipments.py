"""Postgres adapter: the ShipStation shipments ingest has decided on (schema ``ingest``), and
the ``order.shipped`` of each one emitted (written to the schema's outbox, in the transaction
that records the decision: :mod:`relay_shared.outbox`)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from relay_ingest.domain.shipments import Shipment, ShipmentVerdict
from relay_shared.events import OrderShipped
from relay_shared.outbox import Outbox


@dataclass(frozen=True)
class ShipmentDecision:
    """What ingest decided on one of a tenant's shipments; ``announce`` is the
    ``order.shipped`` of an emitted one (``event_id`` is its id, recorded whatever the
    outcome)."""

    tenant_id: str
    shipment: Shipment
    outcome: ShipmentVerdict
    event_id: str
    announce: OrderShipped | None


class ShipmentsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = Outbox(pool)

    async def record(self, decision: ShipmentDecision) -> bool:
        """Record the decision on a shipment and, when it is emitted, write its ``announce``
        event to the outbox and mark it announced (one transaction). True when it was
        already announced (then nothing changes: an announced shipment is final)."""
        shipment = decision.shipment
        async with self._pool.acquire() as conn, conn.transaction():
            recorded = await conn.fetchval(
                "INSERT INTO shipstation_shipments"
                " (tenant_id, shipment_id, order_id, store_id, outcome, event_id)"
                " VALUES ($1, $2, $3, $4, $5, $6)"
                " ON CONFLICT (tenant_id, shipment_id) DO UPDATE SET"
                " outcome = EXCLUDED.outcome, store_id = EXCLUDED.store_id"
                " WHERE shipstation_shipments.announced_at IS NULL"
                " RETURNING true",
                decision.tenant_id,
                shipment.shipment_id,
                shipment.order_id,
                shipment.store_id,
                decision.outcome,
                decision.event_id,
            )
            if recorded is None:
                return True
            if decision.announce is not None:
                await Outbox.add(conn, decision.announce)
                await conn.execute(
                    "UPDATE shipstation_shipments SET announced_at = now()"
                    " WHERE tenant_id = $1 AND shipment_id = $2",
                    decision.tenant_id,
                    shipment.shipment_id,
                )
        return False
