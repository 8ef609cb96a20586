"""Postgres adapter: the ShipStation shipments ingest has decided on (schema ``ingest``)."""

from __future__ import annotations

import asyncpg

from relay_ingest.domain.shipments import Outcome


class ShipmentsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        tenant_id: str,
        shipment_id: str,
        order_id: str,
        store_id: str | None,
        outcome: Outcome,
        event_id: str,
    ) -> bool:
        """Record the decision on a shipment; True when its order.shipped was already
        announced (then nothing changes: an announced shipment is final)."""
        announced = await self._pool.fetchval(
            "INSERT INTO shipstation_shipments"
            " (tenant_id, shipment_id, order_id, store_id, outcome, event_id)"
            " VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (tenant_id, shipment_id) DO UPDATE SET outcome = EXCLUDED.outcome,"
            " store_id = EXCLUDED.store_id WHERE shipstation_shipments.announced_at IS NULL"
            " RETURNING announced_at IS NOT NULL",
            tenant_id,
            shipment_id,
            order_id,
            store_id,
            outcome,
            event_id,
        )
        return announced is None

    async def mark_announced(self, tenant_id: str, shipment_id: str) -> None:
        """The shipment's order.shipped is stored on the bus (called after the publish ack)."""
        await self._pool.execute(
            "UPDATE shipstation_shipments SET announced_at = now()"
            " WHERE tenant_id = $1 AND shipment_id = $2 AND announced_at IS NULL",
            tenant_id,
            shipment_id,
        )
