"""The pulls read model (schema ``gateway``), fed by ``vendor.pulled``: each vendor a tenant's
config pulls over https or sftp, its last attempt, outcome, error and next scheduled time."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import ConfigDict

from relay_shared.event_items import VendorPullItem
from relay_shared.events import VendorPulled


class PullView(VendorPullItem):
    """One pulled vendor as ``GET /v1/tenants/{id}/pulls`` shows it (the API's item too): its
    state as ``vendor.pulled`` last reported it (a removed vendor is not shown), and when."""

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)

    status: Literal["pending", "ok", "unchanged", "retrying", "failed"]
    reported_at: datetime


class PullsNotOpenError(RuntimeError):
    """An event arrived before the gateway's resources opened (it is redelivered)."""


class VendorPullsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, event: VendorPulled) -> None:
        """Upsert the vendor's row; only a later report (higher ``seq``) changes it."""
        await self._pool.execute(
            "INSERT INTO vendor_pulls (tenant_id, vendor_id, kind, status, error_code, error,"
            " attempts, last_attempt_at, last_success_at, next_due_at, seq, reported_at,"
            " event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            " ON CONFLICT (tenant_id, vendor_id) DO UPDATE SET kind = EXCLUDED.kind,"
            " status = EXCLUDED.status, error_code = EXCLUDED.error_code,"
            " error = EXCLUDED.error, attempts = EXCLUDED.attempts,"
            " last_attempt_at = EXCLUDED.last_attempt_at,"
            " last_success_at = EXCLUDED.last_success_at, next_due_at = EXCLUDED.next_due_at,"
            " seq = EXCLUDED.seq, reported_at = EXCLUDED.reported_at,"
            " event_id = EXCLUDED.event_id WHERE vendor_pulls.seq < EXCLUDED.seq",
            event.tenant_id,
            event.vendor_id,
            event.kind,
            event.status,
            event.error_code,
            event.error,
            event.attempts,
            event.last_attempt_at,
            event.last_success_at,
            event.next_due_at,
            event.seq,
            event.occurred_at,
            event.event_id,
        )

    async def of_tenant(self, tenant_id: str) -> list[PullView]:
        """The tenant's pulled vendors (not those removed), by vendor id."""
        rows = await self._pool.fetch(
            "SELECT * FROM vendor_pulls WHERE tenant_id = $1 AND status <> 'removed'"
            " ORDER BY vendor_id",
            tenant_id,
        )
        return [PullView.model_validate(dict(row)) for row in rows]


class TenantPulls:
    """The repository once the gateway's resources are open (the consumer and the route are
    wired before they are)."""

    def __init__(self) -> None:
        self._repository: VendorPullsRepository | None = None

    def open(self, pool: asyncpg.Pool) -> None:
        self._repository = VendorPullsRepository(pool)

    @property
    def repository(self) -> VendorPullsRepository:
        if self._repository is None:
            raise PullsNotOpenError("the pulls read model is not open")
        return self._repository

    async def record(self, event: VendorPulled) -> None:
        await self.repository.record(event)
