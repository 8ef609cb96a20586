"""Per-tenant webhook rate limit shared by every gateway replica: a counter per tenant and
second in a NATS KV bucket, incremented with compare-and-set."""

from __future__ import annotations

from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

BUCKET = "gateway_webhook_rate"
WINDOW_TTL_S = 10.0
MAX_CAS_ATTEMPTS = 50


class RateLimitUnavailableError(RuntimeError):
    """The counter kept changing under us: treat as a transient failure."""


class RateLimiter:
    def __init__(self, kv: KeyValue, per_second: int) -> None:
        self._kv = kv
        self._per_second = per_second

    @classmethod
    async def open(cls, js: JetStreamContext, per_second: int) -> RateLimiter:
        kv = await js.create_key_value(
            KeyValueConfig(bucket=BUCKET, history=1, ttl=WINDOW_TTL_S, storage=StorageType.MEMORY)
        )
        return cls(kv, per_second)

    async def allow(self, tenant_id: str, now: datetime) -> bool:
        """Count one event of ``tenant_id`` in the current second; False over the limit."""
        key = f"{tenant_id}.{int(now.timestamp())}"
        for _ in range(MAX_CAS_ATTEMPTS):
            try:
                entry = await self._kv.get(key)
            except KeyNotFoundError:
                try:
                    await self._kv.create(key, b"1")
                except KeyWrongLastSequenceError:
                    continue
                return True
            count = int(entry.value or b"0")
            if count >= self._per_second:
                return False
            try:
                await self._kv.update(key, str(count + 1).encode(), last=entry.revision)
            except KeyWrongLastSequenceError:
                continue
            return True
        raise RateLimitUnavailableError(f"rate counter of {tenant_id} is contended")
