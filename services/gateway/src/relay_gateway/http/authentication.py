"""Who is calling: an API key (``Authorization: Bearer rk_...`` or ``X-API-Key``) or a user
JWT (``Authorization: Bearer <jwt>``). No or bad credentials → 401."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from relay_gateway.adapters.tenants import StoredApiKey
from relay_gateway.domain.api_keys import hash_api_key, looks_like_api_key, looks_like_jwt
from relay_gateway.domain.roles import (
    AccessDeniedError,
    HiddenResourceError,
    Principal,
    Role,
    check_access,
)
from relay_gateway.domain.tokens import InvalidTokenError, verify_token
from relay_gateway.http.errors import ForbiddenError, UnauthorizedError, UnknownResourceError


class KeyLookup(Protocol):
    async def find_key(self, key_hash: str) -> StoredApiKey | None: ...

    async def active_key(self, key_id: str) -> StoredApiKey | None: ...


MAX_CREDENTIAL_CHARS = 4096


def _credential(request: web.Request) -> tuple[str, bool]:
    """The credential and whether it can only be an API key (``X-API-Key``)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise UnauthorizedError("use Authorization: Bearer <key or token>")
        return _printable(value.strip()), False
    api_key = request.headers.get("X-API-Key")
    if api_key:
        return _printable(api_key.strip()), True
    raise UnauthorizedError("credentials are required")


def _printable(credential: str) -> str:
    """Keys and tokens are printable ASCII: anything else (a byte that is not UTF-8 arrives
    as a surrogate) is no credential of ours."""
    if (
        len(credential) > MAX_CREDENTIAL_CHARS
        or not credential.isascii()
        or not credential.isprintable()
    ):
        raise UnauthorizedError("the credentials are not valid")
    return credential


async def authenticate(request: web.Request, keys: KeyLookup, secret: str) -> Principal:
    credential, key_only = _credential(request)
    if key_only or looks_like_api_key(credential) or not looks_like_jwt(credential):
        stored = await keys.find_key(hash_api_key(credential))
        if stored is None:
            raise UnauthorizedError("the API key is not valid")
        return Principal(
            subject=stored.key_id,
            tenant_id=stored.tenant_id,
            roles=stored.roles,
            kind="api_key",
            key_id=stored.key_id,
        )
    try:
        principal = verify_token(credential, secret=secret)
    except InvalidTokenError as exc:
        raise UnauthorizedError("the token is not valid") from exc
    await _check_minting_key(principal, keys)
    return principal


async def _check_minting_key(principal: Principal, keys: KeyLookup) -> None:
    """A token stands only while the key that minted it is active, belongs to the token's
    tenant (or is a platform key) and holds at least the token's roles."""
    minted_by = None if principal.key_id is None else await keys.active_key(principal.key_id)
    if minted_by is None:
        raise UnauthorizedError("the token's key was revoked", code="token_revoked")
    key_principal = Principal(minted_by.key_id, minted_by.tenant_id, minted_by.roles, "api_key")
    if not key_principal.is_admin and (
        minted_by.tenant_id != principal.tenant_id or key_principal.level < principal.level
    ):
        raise UnauthorizedError("the token is not valid")


def authorize(principal: Principal, tenant_id: str, required: Role, what: str = "tenant") -> None:
    """Map the access rules to HTTP: another tenant's resource is unknown (404)."""
    try:
        check_access(principal, tenant_id, required)
    except HiddenResourceError as exc:
        raise UnknownResourceError(f"no such {what}") from exc
    except AccessDeniedError as exc:
        raise ForbiddenError(str(exc)) from exc
