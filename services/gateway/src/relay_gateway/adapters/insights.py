"""The insights read model (schema ``gateway``), fed by ``insight.generated``."""

from __future__ import annotations

import json
from dataclasses import dataclass

import asyncpg

from relay_gateway.domain.insights import Insight
from relay_gateway.domain.pagination import Cursor, after_params
from relay_shared.events import InsightGenerated


@dataclass(frozen=True)
class InsightQuery:
    tenant_id: str
    status: str
    kind: str | None
    channels: frozenset[str] | None
    limit: int
    after: Cursor | None


def _insight(row: asyncpg.Record) -> Insight:
    return Insight(
        insight_id=row["insight_id"],
        channel=row["channel"],
        sku=row["sku"],
        kind=row["kind"],
        status=row["status"],
        since=row["since"],
        detail=json.loads(row["detail"]),
    )


class InsightsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, event: InsightGenerated) -> None:
        """Upsert the insight; a later status wins (at the same moment, resolved wins), so
        late or repeated events change nothing."""
        await self._pool.execute(
            "INSERT INTO channel_insights (tenant_id, insight_id, channel, sku, kind, status,"
            " since, detail, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (tenant_id, insight_id) DO UPDATE SET status = EXCLUDED.status,"
            " since = EXCLUDED.since, detail = EXCLUDED.detail, event_id = EXCLUDED.event_id,"
            " updated_at = now() WHERE channel_insights.since < EXCLUDED.since"
            " OR (channel_insights.since = EXCLUDED.since AND EXCLUDED.status = 'resolved')",
            event.tenant_id,
            event.insight_id,
            event.channel,
            event.sku,
            event.kind,
            event.status,
            event.since,
            json.dumps(event.detail, sort_keys=True),
            event.event_id,
        )

    async def page(self, query: InsightQuery) -> list[Insight]:
        """Newest first; ``query.limit`` rows after the cursor position."""
        channels = None if query.channels is None else sorted(query.channels)
        rows = await self._pool.fetch(
            "SELECT * FROM channel_insights WHERE tenant_id = $1 AND status = $2"
            " AND ($3::text IS NULL OR kind = $3)"
            " AND ($4::text[] IS NULL OR channel = ANY($4))"
            " AND ($5::timestamptz IS NULL OR (since, insight_id) < ($5, $6))"
            " ORDER BY since DESC, insight_id DESC LIMIT $7",
            query.tenant_id,
            query.status,
            query.kind,
            channels,
            *after_params(query.after),
            query.limit,
        )
        return [_insight(row) for row in rows]
