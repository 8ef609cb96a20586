"""Routes as data: each one's handler and what the OpenAPI document says about it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Body:
    """A request body: a model (JSON) or a media type with a description."""

    model: type[BaseModel] | None = None
    media_types: tuple[str, ...] = ("application/json",)
    description: str = ""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    auth: str
    ok_status: int
    ok_model: type[BaseModel] | None
    errors: tuple[int, ...] = ()
    body: Body | None = None
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    extra_ok: dict[int, type[BaseModel]] = field(default_factory=dict)


def add_routes(app: web.Application, routes: list[Route]) -> None:
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
