"""Error types shared by every service.

The bus's ack discipline depends on these: a :class:`TransientError` is retried with a
growing delay, a :class:`PermanentError` is never retried (it is recorded, dead-lettered and
reported). Every error carries a machine-readable ``code``.
"""

from __future__ import annotations

from typing import Any


class RelayError(Exception):
    """Base of Relay's own errors: a snake_case ``code``, a sentence and details."""

    code: str = "relay_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class TransientError(RelayError):
    """A dependency is unavailable for now (S3, Postgres, NATS, an upstream API): retry."""

    code = "transient"


class PermanentError(RelayError):
    """Bad data or bad config: retrying cannot help."""

    code = "permanent"


class InvalidEventError(PermanentError):
    """A message on the bus does not match its subject's contract."""

    code = "invalid_event"


class NotFoundError(PermanentError):
    """A referenced object (tenant, run, config version, S3 key) does not exist."""

    code = "not_found"
