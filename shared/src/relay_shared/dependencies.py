"""Naming the server that cannot be reached.

A service starting (``relay serve``), or a ``relay`` command, that cannot reach NATS, Postgres
or S3 fails with :class:`DependencyUnreachableError`: which server, at which address (no
password), and why. The caller turns it into one line (one JSON log line for a service,
exit 1), never a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

from relay_shared.bus.failures import DEPENDENCY_ERRORS


class DependencyUnreachableError(ConnectionError):
    """``dependency`` (``NATS``, ``Postgres``, ``S3``, ``gateway``) at ``address`` did not
    answer."""

    code = "dependency_unreachable"

    def __init__(self, dependency: str, address: str, reason: str) -> None:
        super().__init__(f"cannot reach {dependency} at {address}: {reason}")
        self.dependency = dependency
        self.address = address
        self.reason = reason


def without_password(url: str) -> str:
    """``url`` with the password of its user part (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


@asynccontextmanager
async def reaching(dependency: str, address: str) -> AsyncIterator[None]:
    """Turn a failure of ``dependency`` inside the block into
    :class:`DependencyUnreachableError`."""
    try:
        yield
    except DEPENDENCY_ERRORS as exc:
        reason = str(exc) or type(exc).__name__
        raise DependencyUnreachableError(dependency, without_password(address), reason) from exc
