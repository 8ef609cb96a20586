"""Reading request bodies: bounded in size and in time (a client that stops sending before its
``Content-Length`` is answered 408, never left holding the connection), JSON bounded in depth
and size (400 when malformed, 422 by path when invalid)."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from relay_gateway.domain.bounded_documents import DocumentRefusedError, load_json
from relay_gateway.http.errors import (
    BadRequestError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from relay_shared.tenant_config import ConfigProblem, format_path

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 1024 * 1024
BODY_READ_TIMEOUT = web.AppKey("body_read_timeout_s", float)
DEFAULT_BODY_READ_TIMEOUT_S = 30.0


def media_type(request: web.Request) -> str:
    return request.content_type.lower()


def body_read_timeout(request: web.Request) -> float:
    """How long a request may take to send its body (``APP_BODY_READ_TIMEOUT_S``)."""
    return request.app.get(BODY_READ_TIMEOUT, DEFAULT_BODY_READ_TIMEOUT_S)


async def read_limited(request: web.Request, max_bytes: int) -> bytes:
    """The whole body, refusing (413) one declared or found larger than ``max_bytes``
    before it is read whole, and (408) one not sent within the body read timeout."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLargeError(f"the body exceeds {max_bytes} bytes")
    body = bytearray()
    try:
        async with asyncio.timeout(body_read_timeout(request)):
            async for chunk in request.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise PayloadTooLargeError(f"the body exceeds {max_bytes} bytes")
    except TimeoutError as exc:
        raise RequestTimeoutError("the body was not sent in time") from exc
    return bytes(body)


async def read_json(request: web.Request) -> Any:
    if media_type(request) != "application/json":
        raise UnsupportedMediaTypeError("the body must be application/json")
    raw = await read_limited(request, MAX_JSON_BYTES)
    try:
        return load_json(raw)
    except DocumentRefusedError as exc:
        raise refused_document(exc, "malformed_json") from exc


def refused_document(exc: DocumentRefusedError, code: str) -> BadRequestError | UnprocessableError:
    """A refused document: 422 naming the path of a bad value, 400 for the whole."""
    if exc.path:
        problem = ConfigProblem(exc.path, exc.reason)
        return UnprocessableError("the body is not valid", [problem])
    return BadRequestError(str(exc), code=code)


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
