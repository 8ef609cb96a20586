"""Reading request bodies: JSON (400 when malformed, 422 by path when invalid)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from relay_gateway.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from relay_shared.tenant_config import ConfigProblem, format_path

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 1024 * 1024


def media_type(request: web.Request) -> str:
    return request.content_type.lower()


async def read_limited(request: web.Request, max_bytes: int) -> bytes:
    """The whole body, refusing (413) one declared or found larger than ``max_bytes``
    before it is read whole."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLargeError(f"the body exceeds {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLargeError(f"the body exceeds {max_bytes} bytes")
    return bytes(body)


async def read_json(request: web.Request) -> Any:
    if media_type(request) != "application/json":
        raise UnsupportedMediaTypeError("the body must be application/json")
    raw = await read_limited(request, MAX_JSON_BYTES)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError("the body is not valid JSON", code="malformed_json") from exc


async def read_model(request: web.Request, model: type[M]) -> tuple[M, Any]:
    """The body validated as ``model``, and the raw JSON it came from."""
    data = await read_json(request)
    return validate(model, data), data


def validate(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise UnprocessableError(
            "the body must be a JSON object", [ConfigProblem("", "not an object")]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            ConfigProblem(format_path(error["loc"]), _message(error["type"], error["msg"]))
            for error in exc.errors()
        ]
        raise UnprocessableError("the body is not valid", problems) from exc


def _message(kind: str, message: str) -> str:
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key"
    return message.removeprefix("Value error, ")
