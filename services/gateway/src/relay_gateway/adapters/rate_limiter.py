"""The webhook rate limit shared by every gateway replica, kept in NATS KV (the rule is
:mod:`relay_gateway.domain.rate_window`).

Store: one KV key per tenant in the memory bucket ``gateway_rate`` holding the tenant's
admission log (:func:`~relay_gateway.domain.rate_window.encode`).

Hot path: ``update(last=revision)`` (compare-and-set) of the log this replica wrote last, one
round trip; when another replica wrote since (or the key expired) the compare-and-set fails,
and the events are decided again on the log read with ``get``. So every admission is decided
on the stored log exactly as if it had been read first. A refusal writes nothing and is only
answered from a log just read (one or two round trips). Concurrent events of one tenant
inside a replica are committed together (group commit): whoever arrives while a commit is in
flight joins the next one, so a burst costs a few round trips per replica instead of one
compare-and-set per event, and replicas only contend with each other (a lost
compare-and-set re-reads and re-decides; after ``MAX_ATTEMPTS`` the events are refused,
never admitted unchecked).

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
MAX_KNOWN: Final = 10_000
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
        #: per KV key: the log this replica last wrote and its revision
        self._known: dict[str, tuple[list[int], int]] = {}

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
        """Decide on the log this replica last wrote (no read: the compare-and-set fails
        when another replica wrote since, or the key expired, and the retry reads it); a
        refusal is only answered from a log just read."""
        key = tenant_key(tenant_id)
        known = self._known.pop(key, None)
        for _ in range(MAX_ATTEMPTS):
            fresh = known is None
            stored, revision = known or await self._read(key)
            known = None
            kept, answers = admit(stored, times, self._limit, self._window_us)
            if not any(answer.allowed for answer in answers):
                if fresh:
                    return answers
                continue
            try:
                written = await self._kv.update(key, encode(kept), last=revision)
            except KeyWrongLastSequenceError:
                continue
            self._remember(key, kept, written)
            return answers
        log.warning("webhook.rate_contention", tenant_id=tenant_id, events=len(times))
        return [Admission(False, WINDOW_S)] * len(times)

    async def _read(self, key: str) -> tuple[list[int], int]:
        """The stored log and its revision; a key deleted or purged (by an operator) is an
        empty log at the revision of its marker, which the compare-and-set expects."""
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError as exc:
            marker = exc.entry
            return [], (marker.revision or 0) if marker is not None else 0
        return decode(entry.value), entry.revision or 0

    def _remember(self, key: str, kept: list[int], revision: int) -> None:
        """Keep what this replica wrote, for at most ``MAX_KNOWN`` tenants (the least
        recently written forgotten first)."""
        self._known[key] = (kept, revision)
        if len(self._known) > MAX_KNOWN:
            del self._known[next(iter(self._known))]
