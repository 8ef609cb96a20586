"""Correlation ids, access logs, the input guard and the error shape (never a stack
trace)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from relay_gateway.domain.parameters import (
    has_control_character,
    path_problem,
    query_problem,
)
from relay_gateway.http.context import CORRELATION_ID
from relay_gateway.http.errors import (
    ApiError,
    BadRequestError,
    DependencyUnavailableError,
    UnknownResourceError,
    UnprocessableError,
)
from relay_shared.bus.failures import is_transient
from relay_shared.telemetry import CORRELATION_HEADER, new_correlation_id
from relay_shared.tenant_config import ConfigProblem
from relay_shared.tracing import annotate_span

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_VALID_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HTTP_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=error.headers)


@web.middleware
async def correlation_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Take ``X-Correlation-ID`` (or make one), bind it to every log line, echo it back."""
    given = request.headers.get(CORRELATION_HEADER, "")
    correlation_id = given if _VALID_CORRELATION.match(given) else new_correlation_id()
    request[CORRELATION_ID] = correlation_id
    annotate_span({"correlation_id": correlation_id})
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
        response = await handler(request)
        response.headers[CORRELATION_HEADER] = correlation_id
        log.info(
            "http.request",
            method=request.method,
            path=request.path,
            status=response.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes ``{"error": {...}}``. The last-resort ``except Exception`` is
    deliberate: an unexpected bug is logged with its trace and answered as a plain 500."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(_http_error(exc, code))
    except Exception as exc:
        if is_transient(exc):
            log.warning("http.dependency_unavailable", error=repr(exc))
            return error_response(DependencyUnavailableError("a dependency is unavailable"))
        log.exception("http.unexpected_error")
        return error_response(ApiError("an unexpected error occurred"))


@web.middleware
async def input_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse what no handler may see: control characters (NUL included) in the path or the
    query (400), a path id of a shape that names nothing (404), a query value not of its
    parameter's shape (422, naming it). Runs after routing, inside the error middleware."""
    if has_control_character(request.path):
        raise BadRequestError("the path must not contain control characters")
    problem = path_problem(request.match_info)
    if problem is not None:
        raise UnknownResourceError(problem.message)
    problem = query_problem(request.query.items())
    if problem is not None:
        if problem.malformed:
            raise BadRequestError(f"query parameter {problem.name} {problem.message}")
        raise UnprocessableError(
            "the query is not valid", [ConfigProblem(problem.name, problem.message)]
        )
    return await handler(request)


def _http_error(exc: web.HTTPException, code: str) -> ApiError:
    error = ApiError(exc.reason, code=code)
    error.status = exc.status
    if exc.status == 405 and "Allow" in exc.headers:
        error.headers = {"Allow": exc.headers["Allow"]}
    return error
