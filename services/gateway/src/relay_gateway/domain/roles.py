"""Roles, principals and the access rules.

Roles nest: owner ⊇ operator ⊇ viewer. ``admin`` is a platform role that may do everything
on every tenant. A principal only ever sees its own tenant: another tenant's resources are
reported as unknown (404), never as forbidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    OWNER = "owner"
    ADMIN = "admin"

    @property
    def level(self) -> int:
        return _LEVELS[self]


_LEVELS = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.OWNER: 3, Role.ADMIN: 4}
TENANT_ROLES = frozenset({Role.VIEWER, Role.OPERATOR, Role.OWNER})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key (``kind="api_key"``) or a user token (``kind="user"``)."""

    subject: str
    tenant_id: str | None
    roles: frozenset[Role]
    kind: str
    channels: frozenset[str] | None = None
    key_id: str | None = None
    """The API key behind the principal: the key itself, or the key that minted a token."""

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def level(self) -> int:
        return max((role.level for role in self.roles), default=0)


class AccessDeniedError(Exception):
    """The principal sees the resource but lacks the role (403)."""

    def __init__(self, required: Role) -> None:
        super().__init__(f"this needs the {required.value} role")
        self.required = required


class HiddenResourceError(Exception):
    """The resource belongs to another tenant: report it as unknown (404)."""


def check_access(principal: Principal, tenant_id: str, required: Role) -> None:
    """Raise unless ``principal`` may act on ``tenant_id`` with ``required``."""
    if principal.is_admin:
        return
    if principal.tenant_id != tenant_id:
        raise HiddenResourceError(tenant_id)
    if principal.level < required.level:
        raise AccessDeniedError(required)


def check_platform_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise AccessDeniedError(Role.ADMIN)


class GrantError(ValueError):
    """Roles that may not be granted by this principal."""


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Role names to roles; unknown names raise ``ValueError``."""
    return frozenset(Role(name) for name in names)


def check_grant(principal: Principal, roles: frozenset[Role]) -> None:
    """An owner may grant tenant roles up to its own level, never admin."""
    if not roles:
        raise GrantError("at least one role is needed")
    if Role.ADMIN in roles:
        raise GrantError("admin cannot be granted to a tenant key or token")
    if any(role.level > principal.level for role in roles):
        raise GrantError("cannot grant a role above your own")
