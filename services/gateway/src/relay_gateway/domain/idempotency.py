"""Idempotency-Key decisions for ``POST /v1/runs``.

A key is per tenant and kept 24 h: the same key with the same body replays the first
answer; the same key with another body is a conflict.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

MAX_KEY_LENGTH = 255


class Replay(Enum):
    NEW = "new"
    REPLAY = "replay"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class IdempotencyRecord:
    """What a stored Idempotency-Key answered: the request it came with and its run."""

    request_hash: str
    run_id: str


def request_fingerprint(body: dict[str, Any]) -> str:
    """A hash of the request that ignores key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def decide(stored: IdempotencyRecord | None, request_hash: str) -> Replay:
    if stored is None:
        return Replay.NEW
    if stored.request_hash == request_hash:
        return Replay.REPLAY
    return Replay.CONFLICT


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()
