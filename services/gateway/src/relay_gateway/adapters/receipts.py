"""Webhook receipts: the event ids already published (schema ``gateway``)."""

from __future__ import annotations

import asyncpg


class ReceiptsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def seen(self, tenant_id: str, event_id: str) -> bool:
        found = await self._pool.fetchval(
            "SELECT 1 FROM webhook_receipts WHERE tenant_id = $1 AND event_id = $2",
            tenant_id,
            event_id,
        )
        return found is not None

    async def record(self, tenant_id: str, event_id: str, kind: str) -> bool:
        """True when this is the first receipt of the event."""
        inserted = await self._pool.fetchval(
            "INSERT INTO webhook_receipts (tenant_id, event_id, kind) VALUES ($1, $2, $3)"
            " ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING event_id",
            tenant_id,
            event_id,
            kind,
        )
        return inserted is not None
