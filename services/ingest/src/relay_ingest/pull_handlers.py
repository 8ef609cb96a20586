"""Vendor pulls: configure → claim → pull → record → emit.

- ``tenant.configured`` (:meth:`PullHandlers.configure`): the vendors whose ``inbound.type`` is
  https or sftp, with their cron, go to ``ingest.vendor_pulls`` (Postgres is the schedule's
  truth; no timer in memory). A new vendor, a changed source or a vendor whose last pull
  failed is pulled at once (the operator sees at once whether credentials and host key work).
- :meth:`PullHandlers.tick` (every ``APP_PULL_TICK_S`` in every replica): due vendors are
  claimed (one replica each, a lease), pulled ``APP_PULL_CONCURRENCY`` at a time, and each
  outcome recorded by the lease holder: new files as inbound objects with one
  ``feed.received`` each (a one-vendor update, the bucket drops' path), in one transaction
  with the vendor's state, then the outbox is drained.
- Failures (:class:`~relay_ingest.domain.pulls.PullFailure`) never reach the bus: a transient
  one is retried with backoff before the next cron time (the state row, not a redelivery, is
  the retry's truth, so a restart keeps it); a permanent one waits for the next cron time or
  a new config version. Each is logged (``ingest.vendor_pull_failed``, with tenant, vendor,
  code) and kept in the vendor's status row; other vendors and tenants go on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from relay_ingest.adapters.pulls_repository import LeaseLostError
from relay_ingest.domain.pulls import (
    Claim,
    Fetched,
    PullFailure,
    PullRequest,
    PullResult,
    PullsSetting,
    RetryPlan,
    Validators,
    after_failure,
)
from relay_shared.bus.failures import is_transient
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError
from relay_shared.outbox import Outbox, Publisher
from relay_shared.secrets_box import SecretsBox, SecretsBoxError
from relay_shared.tenant_config import (
    INBOUND_SECRET_PATHS,
    InboundConfig,
    TenantConfig,
    next_run_after,
)

log = structlog.get_logger(__name__)


class Pulls(Protocol):
    @property
    def outbox(self) -> Outbox: ...

    async def configure(self, setting: PullsSetting, now: datetime) -> None: ...

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[Claim]: ...

    async def succeeded(
        self, claim: Claim, fetched: Sequence[Fetched], validators: Validators, now: datetime
    ) -> int: ...

    async def failed(
        self, claim: Claim, failure: PullFailure, plan: RetryPlan, now: datetime
    ) -> None: ...


class Source(Protocol):
    async def pull(self, request: PullRequest) -> PullResult: ...


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float
    max_attempts: int
    lease: timedelta


@dataclass
class PullHandlers:
    configs: TenantConfigStore
    pulls: Pulls
    sources: dict[str, Source]
    box: SecretsBox | None
    bus: Publisher
    retry: RetryPolicy
    concurrency: int = 8

    async def configure(self, tenant_id: str, version: int, config: TenantConfig) -> None:
        await self.pulls.configure(PullsSetting.of(tenant_id, version, config), _now())
        await self.pulls.outbox.drain(self.bus.publish)

    async def tick(self, now: datetime | None = None) -> int:
        """Pull the vendors due now; returns how many new feeds were announced."""
        claims = await self.pulls.claim(now or _now(), self.concurrency, self.retry.lease)
        if not claims:
            return 0
        gate = asyncio.Semaphore(self.concurrency)
        announced = sum(await asyncio.gather(*(self._one(claim, gate) for claim in claims)))
        await self.pulls.outbox.drain(self.bus.publish)  # the feeds and the vendors' reports
        return announced

    async def _one(self, claim: Claim, gate: asyncio.Semaphore) -> int:
        async with gate:
            try:
                result = await self._pull(claim)
            except PullFailure as failure:
                await self._failed(claim, failure)
                return 0
            except Exception as exc:  # the bucket down, a bug: this vendor only, reported
                log.exception("ingest.vendor_pull_crashed", **_ids(claim))
                code = "storage_unavailable" if is_transient(exc) else "internal_error"
                await self._failed(
                    claim, PullFailure(code, repr(exc)[:300], transient=is_transient(exc))
                )
                return 0
            try:
                announced = await self.pulls.succeeded(
                    claim, result.fetched, result.validators, _now()
                )
            except LeaseLostError:
                log.warning("ingest.vendor_pull_lease_lost", **_ids(claim))
                return 0
            log.info("ingest.vendor_pulled", **_ids(claim), new_feeds=announced)
            return announced

    async def _pull(self, claim: Claim) -> PullResult:
        try:
            config = await self.configs.load(claim.tenant_id, claim.config_version)
            inbound = config.vendor(claim.vendor_id).inbound
        except (PermanentError, KeyError) as exc:
            raise PullFailure("invalid_config", str(exc)[:300], transient=False) from exc
        if inbound is None or inbound.type not in self.sources:
            raise PullFailure("invalid_config", "the vendor is not pulled", transient=False)
        secrets = self._secrets(inbound)
        pull_id = f"pull-{uuid.uuid4().hex[:12]}"
        source = self.sources[inbound.type]
        request = PullRequest(
            claim.tenant_id, claim.vendor_id, inbound, secrets, claim.validators, _now(), pull_id
        )
        return await source.pull(request)

    def _secrets(self, inbound: InboundConfig) -> dict[str, str]:
        """The vendor's opened secrets by dotted path (``auth.password``, ``private_key``)."""
        sealed = {
            ".".join(path): value
            for path in INBOUND_SECRET_PATHS
            if isinstance(value := _at(inbound, path), str)
        }
        if sealed and self.box is None:
            raise PullFailure("secrets_unavailable", "APP_SECRET_KEY is not set", transient=False)
        try:
            return (
                {path: self.box.open(value) for path, value in sealed.items()} if self.box else {}
            )
        except SecretsBoxError as exc:
            raise PullFailure("secrets_unavailable", str(exc), transient=False) from exc

    async def _failed(self, claim: Claim, failure: PullFailure) -> None:
        now = _now()
        plan = after_failure(
            failure,
            claim.attempts,
            now,
            next_run_after(claim.cron, claim.timezone, now),
            self.retry.base_s,
            self.retry.max_attempts,
        )
        log.warning(
            "ingest.vendor_pull_failed",
            **_ids(claim),
            code=failure.code,
            error=str(failure),
            transient=failure.transient,
            attempt=claim.attempts,
            status=plan.status,
            next_at=plan.next_due_at.isoformat(),
        )
        try:
            await self.pulls.failed(claim, failure, plan, now)
        except LeaseLostError:
            log.warning("ingest.vendor_pull_lease_lost", **_ids(claim))


def _at(inbound: InboundConfig, path: tuple[str, ...]) -> object:
    value: object = inbound
    for part in path:
        value = getattr(value, part, None)
    return value


def _ids(claim: Claim) -> dict[str, object]:
    return {
        "tenant_id": claim.tenant_id,
        "vendor_id": claim.vendor_id,
        "config_version": claim.config_version,
    }


def _now() -> datetime:
    return datetime.now(UTC)
