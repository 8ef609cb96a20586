"""Deciding whether a failure is worth retrying."""

from __future__ import annotations

import asyncio

import asyncpg
from botocore.exceptions import BotoCoreError, ClientError
from nats.errors import Error as NatsError

from relay_shared.errors import PermanentError, TransientError

#: Exceptions a dependency (S3, Postgres, NATS) raises; :func:`is_transient` tells which of
#: them may heal. Catch these, never ``Exception``, around a call to a dependency.
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,
    asyncio.TimeoutError,
    NatsError,
    BotoCoreError,
    ClientError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

_RETRYABLE_S3_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}
)


def is_transient(exc: BaseException) -> bool:
    """True for failures of a dependency that may heal: retry them with a delay. A group
    (concurrent uploads in a task group) is transient when every failure in it is."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_transient(inner) for inner in exc.exceptions)
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, PermanentError):
        return False
    if isinstance(exc, OSError | asyncio.TimeoutError | NatsError | BotoCoreError):
        return True
    if isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.exceptions.CannotConnectNowError
        | asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.TooManyConnectionsError
        | asyncpg.exceptions.AdminShutdownError
        | asyncpg.exceptions.SerializationError
        | asyncpg.exceptions.DeadlockDetectedError
        | asyncpg.exceptions.InterfaceError,
    ):
        return True
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in _RETRYABLE_S3_CODES or int(status) >= 500
    return False
