"""The channel actions read model (schema ``gateway``), fed by ``channel.acted``: the audit of
what each channel's plugin did (or, in dry-run, would have sent)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from relay_gateway.domain.pagination import Cursor, after_params
from relay_shared.event_items import ChannelActionItem
from relay_shared.events import ChannelActed


@dataclass(frozen=True)
class ChannelActionQuery:
    tenant_id: str
    channel: str
    action: str | None
    outcome: str | None
    limit: int
    after: Cursor | None


# One audited action as the audit shows it (the API's item too): the action as
# ``channel.acted`` names it (:class:`~relay_shared.event_items.ChannelActionItem`), then what
# the audit row keeps of it.
class ChannelActionOut(ChannelActionItem):
    request: dict[str, Any]
    answer: str | None
    duration_ms: int
    status_after: str | None
    price_after: Decimal | None
    artifact_key: str | None
    acted_at: datetime


class ChannelActionsNotOpenError(RuntimeError):
    """An event arrived before the gateway's resources opened (it is redelivered)."""


class ChannelActionsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, event: ChannelActed) -> None:
        """Store the audit row once (an action is audited once; a repeat changes nothing)."""
        await self._pool.execute(
            "INSERT INTO channel_actions (tenant_id, action_id, insight_id, channel, sku,"
            " action, outcome, dry_run, request, answer, duration_ms, status_after,"
            " price_after, artifact_key, acted_at, event_id) VALUES ($1, $2, $3, $4, $5, $6,"
            " $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING",
            event.tenant_id,
            event.action_id,
            event.insight_id,
            event.channel,
            event.sku,
            event.action,
            event.outcome,
            event.dry_run,
            json.dumps(event.request, sort_keys=True),
            event.answer,
            event.duration_ms,
            event.status_after,
            event.price_after,
            event.artifact_key,
            event.occurred_at,
            event.event_id,
        )

    async def page(self, query: ChannelActionQuery) -> list[ChannelActionOut]:
        """Newest first; ``query.limit`` rows after the cursor position."""
        rows = await self._pool.fetch(
            "SELECT * FROM channel_actions WHERE tenant_id = $1 AND channel = $2"
            " AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR outcome = $4)"
            " AND ($5::timestamptz IS NULL OR (acted_at, action_id) < ($5, $6))"
            " ORDER BY acted_at DESC, action_id DESC LIMIT $7",
            query.tenant_id,
            query.channel,
            query.action,
            query.outcome,
            *after_params(query.after),
            query.limit,
        )
        return [_view(row) for row in rows]


def _view(row: asyncpg.Record) -> ChannelActionOut:
    return ChannelActionOut.model_validate({**row, "request": json.loads(row["request"])})


class ChannelActionsReadModel:
    """The repository once the gateway's resources are open (the consumer and the route are
    wired before they are)."""

    def __init__(self) -> None:
        self._repository: ChannelActionsRepository | None = None

    def open(self, pool: asyncpg.Pool) -> None:
        self._repository = ChannelActionsRepository(pool)

    def close(self) -> None:
        self._repository = None

    @property
    def repository(self) -> ChannelActionsRepository:
        if self._repository is None:
            raise ChannelActionsNotOpenError("the channel actions read model is not open")
        return self._repository

    async def record(self, event: ChannelActed) -> None:
        await self.repository.record(event)
