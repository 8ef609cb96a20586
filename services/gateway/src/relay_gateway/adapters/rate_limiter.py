"""The webhook rate limit shared by every gateway replica, kept in NATS KV (the rule is
:mod:`relay_gateway.domain.rate_window`).

Store: one KV key per tenant in the memory bucket ``gateway_rate`` holding the tenant's
admission log (:func:`~relay_gateway.domain.rate_window.encode`).

Hot path: ``get`` then ``update(last=revision)`` (compare-and-set), two round trips; a refusal
writes nothing (one round trip). Concurrent events of one tenant inside a replica are
committed together (group commit): whoever arrives while a commit is in flight joins the
next one, so a burst costs a few round trips per replica instead of one compare-and-set per
event, and replicas only contend with each other (a lost compare-and-set re-reads and
re-decides; after ``MAX_ATTEMPTS`` the events are refused, never admitted unchecked).

Why not the per-subject message cap of a stream with ``max_age`` (one round trip, no CAS):
the server expires messages on a timer that runs up to ~250 ms late, so the window silently
grows and a steady 90/s tenant saw about one event in nine refused. Keys expire after
``KEY_TTL_S`` without events; the bucket is memory-only (a NATS restart forgets the window).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import structlog
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from relay_gateway.domain.rate_window import (
    MICROS,
    WINDOW_S,
    Admission,
    admit,
    decode,
    encode,
    micros,
    tenant_key,
)

BUCKET: Final = "gateway_rate"
KEY_TTL_S: Final = 60.0
MAX_ATTEMPTS: Final = 16
log = structlog.get_logger(__name__)


@dataclass
class _Waiting:
    at: int
    answer: asyncio.Future[Admission]


class RateLimiter:
    def __init__(self, kv: KeyValue, limit: int, window_s: float = WINDOW_S) -> None:
        self._kv = kv
        self._limit = limit
        self._window_us = round(window_s * MICROS)
        #: per tenant with a commit in flight: the events waiting for the next one
        self._queues: dict[str, list[_Waiting]] = {}
        self._committers: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, js: JetStreamContext, per_second: int) -> RateLimiter:
        """Bind (or create) the shared bucket; ``per_second`` events per tenant per second."""
        try:
            kv = await js.key_value(BUCKET)
        except BucketNotFoundError:
            kv = await js.create_key_value(
                KeyValueConfig(
                    bucket=BUCKET,
                    history=1,
                    ttl=KEY_TTL_S,
                    storage=StorageType.MEMORY,
                    description="gateway webhook rate limit: admission times per tenant",
                )
            )
        return cls(kv, per_second)

    async def allow(self, tenant_id: str, now: datetime) -> bool:
        """Count one event of ``tenant_id`` at ``now``; False over the limit."""
        return (await self.check(tenant_id, now)).allowed

    async def check(self, tenant_id: str, now: datetime) -> Admission:
        """Admit or refuse one event of ``tenant_id`` at ``now`` (with a Retry-After)."""
        waiting = _Waiting(micros(now), asyncio.get_running_loop().create_future())
        queue = self._queues.get(tenant_id)
        if queue is not None:
            queue.append(waiting)
        else:
            self._queues[tenant_id] = [waiting]
            task = asyncio.create_task(self._commit_queued(tenant_id))
            self._committers.add(task)
            task.add_done_callback(self._committers.discard)
        return await waiting.answer

    async def _commit_queued(self, tenant_id: str) -> None:
        """Commit the tenant's waiting events, batch after batch, until none are left."""
        batch: list[_Waiting] = []
        try:
            while batch := self._take(tenant_id):
                try:
                    answers = await self._commit(tenant_id, [w.at for w in batch])
                except Exception as exc:  # noqa: BLE001 - re-raised in every waiting handler
                    for waiting in batch:
                        if not waiting.answer.done():
                            waiting.answer.set_exception(exc)
                    continue
                for waiting, answer in zip(batch, answers, strict=True):
                    if not waiting.answer.done():
                        waiting.answer.set_result(answer)
        finally:
            for waiting in [*batch, *self._queues.pop(tenant_id, [])]:
                waiting.answer.cancel()

    def _take(self, tenant_id: str) -> list[_Waiting]:
        batch = self._queues.get(tenant_id) or []
        if batch:
            self._queues[tenant_id] = []
        else:
            self._queues.pop(tenant_id, None)
        return batch

    async def _commit(self, tenant_id: str, times: list[int]) -> list[Admission]:
        key = tenant_key(tenant_id)
        for _ in range(MAX_ATTEMPTS):
            try:
                entry = await self._kv.get(key)
            except KeyNotFoundError:
                stored, revision = [], 0
            else:
                stored, revision = decode(entry.value), entry.revision or 0
            kept, answers = admit(stored, times, self._limit, self._window_us)
            if not any(answer.allowed for answer in answers):
                return answers
            try:
                await self._kv.update(key, encode(kept), last=revision)
            except KeyWrongLastSequenceError:
                continue
            return answers
        log.warning("webhook.rate_contention", tenant_id=tenant_id, events=len(times))
        return [Admission(False, WINDOW_S)] * len(times)
