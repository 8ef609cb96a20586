"""JSON responses rendered from the API's response models."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel


def respond(body: BaseModel, status: int = 200) -> web.Response:
    return web.Response(text=body.model_dump_json(), status=status, content_type="application/json")
