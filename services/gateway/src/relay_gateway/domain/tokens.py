"""User tokens: JWT HS256 with ``sub``, ``org_id``, ``roles``, ``channels`` and ``exp``.

Only HS256 is accepted: ``alg: none``, asymmetric algorithms, a wrong secret, a tampered
payload or an expired token are all :class:`InvalidTokenError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from relay_gateway.domain.roles import TENANT_ROLES, Principal, Role

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "org_id", "roles", "exp", "iat"]


class InvalidTokenError(ValueError):
    """The token cannot be trusted."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def issue_token(
    *,
    secret: str,
    subject: str,
    tenant_id: str,
    roles: Sequence[Role],
    channels: Sequence[str],
    now: datetime,
    ttl: timedelta,
) -> IssuedToken:
    expires_at = (now + ttl).replace(microsecond=0)
    claims: dict[str, Any] = {
        "sub": subject,
        "org_id": tenant_id,
        "roles": sorted(role.value for role in roles),
        "channels": sorted(channels),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at)


def verify_token(token: str, *, secret: str) -> Principal:
    """The principal a valid token stands for; :class:`InvalidTokenError` otherwise."""
    if not secret:
        raise InvalidTokenError("tokens are not enabled (no secret key)")
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError("unsupported token algorithm")
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    sub, org_id, roles, channels = (
        claims["sub"],
        claims["org_id"],
        claims["roles"],
        claims.get("channels", []),
    )
    if not isinstance(sub, str) or not isinstance(org_id, str) or not org_id:
        raise InvalidTokenError("sub and org_id must be strings")
    if not isinstance(roles, list) or not isinstance(channels, list):
        raise InvalidTokenError("roles and channels must be lists")
    try:
        parsed = frozenset(Role(name) for name in roles)
    except ValueError as exc:
        raise InvalidTokenError("unknown role in token") from exc
    if not parsed or not parsed <= TENANT_ROLES:
        raise InvalidTokenError("a token carries tenant roles only")
    if not all(isinstance(channel, str) for channel in channels):
        raise InvalidTokenError("channels must be strings")
    return Principal(
        subject=sub,
        tenant_id=org_id,
        roles=parsed,
        kind="user",
        channels=frozenset(channels),
    )
