"""Per-tenant webhook rate limit shared by every gateway replica, kept by NATS JetStream.

Each admitted event publishes an empty message to ``gateway.rate.<tenant>.<second>`` in a
small in-memory stream that holds at most ``per_second`` messages per subject and refuses the
next one (``discard_new_per_subject``). The server counts atomically for all replicas: one
round trip per event and no compare-and-set retries, so replicas under load never contend
(a KV counter updated with CAS needs a retry per concurrent writer). Messages expire after a
few seconds; each second is a new subject, so the window is the wall-clock second.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError, ServiceUnavailableError

STREAM: Final = "GATEWAY_RATE"
SUBJECT_PREFIX: Final = "gateway.rate"
WINDOW_TTL_S: Final = 5.0
#: JetStream's "maximum messages per subject exceeded" (the limit is reached)
PER_SUBJECT_LIMIT_CODE: Final = 10077
_SUBJECT_TOKEN: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def stream_config(per_second: int) -> StreamConfig:
    return StreamConfig(
        name=STREAM,
        subjects=[f"{SUBJECT_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.MEMORY,
        discard=DiscardPolicy.NEW,
        discard_new_per_subject=True,
        max_msgs_per_subject=per_second,
        max_age=WINDOW_TTL_S,
        duplicate_window=1.0,
    )


def window_subject(tenant_id: str, now: datetime) -> str:
    """The subject counting ``tenant_id``'s events in the second of ``now``."""
    token = tenant_id if _SUBJECT_TOKEN.match(tenant_id) else tenant_id.encode().hex()[:120]
    return f"{SUBJECT_PREFIX}.{token}.{int(now.timestamp())}"


class RateLimiter:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    @classmethod
    async def open(cls, js: JetStreamContext, per_second: int) -> RateLimiter:
        """Declare (or bring up to date) the counting stream."""
        config = stream_config(per_second)
        try:
            await js.stream_info(STREAM)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
        return cls(js)

    async def allow(self, tenant_id: str, now: datetime) -> bool:
        """Count one event of ``tenant_id`` in the current second; False over the limit."""
        try:
            await self._js.publish(window_subject(tenant_id, now), b"", stream=STREAM)
        except ServiceUnavailableError as exc:
            if exc.err_code == PER_SUBJECT_LIMIT_CODE:
                return False
            raise
        return True
