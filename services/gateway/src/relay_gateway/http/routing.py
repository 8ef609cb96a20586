"""Routes declared once: the handler, who may call it, and what the OpenAPI document says.

``role`` is the whole access rule of a route, enforced by :mod:`relay_gateway.http.access`
before the handler runs and published by :mod:`relay_gateway.http.openapi`:

- ``Auth.ANYONE``: no credentials; ``Auth.SIGNATURE``: no credentials, the handler checks the
  request's signature or token (the webhook);
- ``Role.ADMIN``: a platform admin key;
- a tenant role (``Role.VIEWER``, ``Role.OPERATOR``, ``Role.OWNER``): that role on the tenant
  the request names (its ``{tenant_id}`` path segment, else the query or body tenant the
  handler asks for, or the tenant of the resource it loads).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import BaseModel

from relay_gateway.domain.roles import Role

if TYPE_CHECKING:
    from relay_gateway.http.access import Call

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]
TENANT_PARAMETER = "tenant_id"


class Auth(StrEnum):
    """Routes that take no credentials."""

    ANYONE = "anyone"
    SIGNATURE = "signature"


@dataclass(frozen=True, kw_only=True)
class Body:
    """A request body: a model (JSON) or a media type with a description."""

    model: type[BaseModel] | None = None
    media_types: tuple[str, ...] = ("application/json",)
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    role: Role | Auth
    ok: int
    returns: type[BaseModel] | None = None
    #: the statuses the handler itself may answer (those of the access rule, the input
    #: guard and the body reader are added by the OpenAPI generator)
    errors: tuple[int, ...] = ()
    body: Body | None = None
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    also_ok: Mapping[int, type[BaseModel]] = field(default_factory=dict)

    @property
    def needs_credentials(self) -> bool:
        return isinstance(self.role, Role)

    @property
    def tenant_in_path(self) -> bool:
        return "{" + TENANT_PARAMETER + "}" in self.path
