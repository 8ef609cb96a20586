"""The webhook rate limit's rule (pure): an exact sliding window over admission times.

Rule: an event at time ``u`` is admitted when fewer than ``limit`` admitted events have a time
``t`` with ``t > u - window`` (later ones included, whatever the order replicas commit in).
So no span ``[a, a + window)`` ever holds more than ``limit`` admitted events: no 2x burst
across a second boundary, and none of the 1.5x a weighted two-window counter lets through when
the previous window's events came at its end (a token bucket of ``limit`` tokens allows 2x).

Stored form: the ``limit`` latest admission times (µs since the epoch, the admitting
replica's clock) as ``limit`` 8-byte integers (800 bytes for 100/s). That is a sliding *log*,
exact (see :func:`admit`), no approximation. :mod:`relay_gateway.adapters.rate_limiter`
keeps it in NATS KV, shared by every gateway replica.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from relay_shared.identifiers import TENANT_ID_PATTERN, matches

WINDOW_S: Final = 1.0
MICROS: Final = 1_000_000
_TIME: Final = struct.Struct("<q")


@dataclass(frozen=True)
class Admission:
    allowed: bool
    #: seconds until an event could be admitted (0 when admitted)
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> int:
        """Whole seconds for ``Retry-After``, at least 1."""
        return max(1, math.ceil(self.retry_after_s))


def admit(
    admitted: Sequence[int], times: Sequence[int], limit: int, window_us: int
) -> tuple[list[int], list[Admission]]:
    """Decide ``times`` (µs) in order against the ``admitted`` log; return the new log and
    one decision each.

    The log keeps the ``limit`` latest admission times, nothing else, and that is exact for
    events in any order: an event needs a dropped time ``d`` only if ``d`` is inside its
    window, and then the ``limit`` kept times, all later than ``d``, are too (refused either
    way). Pruning by age instead would forget what a replica whose clock lags still needs."""
    entries = sorted(admitted)
    answers: list[Admission] = []
    for at in times:
        live = len(entries) - bisect.bisect_right(entries, at - window_us)
        if live < limit:
            bisect.insort(entries, at)
            answers.append(Admission(True))
        else:
            # the limit-th latest time must leave the window before another event fits
            frees_at = entries[len(entries) - limit] + window_us
            answers.append(Admission(False, max(0.0, (frees_at - at) / MICROS)))
    return entries[-limit:], answers


def encode(times: Sequence[int]) -> bytes:
    """``times`` as consecutive little-endian 8-byte integers (one ``struct`` call)."""
    return struct.pack(f"<{len(times)}q", *times)


def decode(value: bytes | None) -> list[int]:
    """The stored log; an unreadable value counts as empty (and is overwritten)."""
    if not value or len(value) % _TIME.size:
        return []
    return list(struct.unpack(f"<{len(value) // _TIME.size}q", value))


def tenant_key(tenant_id: str) -> str:
    """The KV key of ``tenant_id`` (a digest for anything not shaped like a tenant id)."""
    if matches(TENANT_ID_PATTERN, tenant_id):
        return tenant_id
    return "=" + hashlib.sha256(tenant_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def micros(at: datetime) -> int:
    return round(at.timestamp() * MICROS)
