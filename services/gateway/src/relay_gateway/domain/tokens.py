"""User tokens: JWT HS256 with ``sub``, ``org_id``, ``roles``, ``channels``, ``exp``, ``kid``
(the API key that minted it) and ``jti`` (the token's own id).

Only HS256 is accepted: ``alg: none``, asymmetric algorithms, a wrong secret, a tampered
payload or an expired token are all :class:`InvalidTokenError`. A token is only as good as
its key: the caller checks on every request that ``kid`` is still active and holds at least
the token's roles (:func:`relay_gateway.http.authentication.authenticate`), so revoking a key
revokes every token it minted.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from relay_gateway.domain.roles import TENANT_ROLES, Principal, Role

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "org_id", "roles", "exp", "iat", "kid", "jti"]


class InvalidTokenError(ValueError):
    """The token cannot be trusted."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def issue_token(
    *,
    secret: str,
    key_id: str,
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
        "kid": key_id,
        "jti": secrets.token_hex(16),
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
    sub, org_id, roles, channels, kid = (
        claims["sub"],
        claims["org_id"],
        claims["roles"],
        claims.get("channels", []),
        claims["kid"],
    )
    if not all(isinstance(value, str) and value for value in (sub, org_id, kid)):
        raise InvalidTokenError("sub, org_id and kid must be strings")
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
        key_id=kid,
    )
