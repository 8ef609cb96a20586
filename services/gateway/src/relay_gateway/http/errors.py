"""HTTP errors: a status, a snake_case code, a sentence and details.

Rendered as ``{"error": {"code", "message", "details"}}`` by the error middleware.
"""

from __future__ import annotations

from typing import Any

from relay_shared.tenant_config import ConfigProblem


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}
        self.headers: dict[str, str] = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequestError(ApiError):
    status = 400
    code = "malformed_request"


class UnauthorizedError(ApiError):
    status = 401
    code = "unauthorized"


class ForbiddenError(ApiError):
    status = 403
    code = "forbidden"


class UnknownResourceError(ApiError):
    """404: unknown, or another tenant's (never revealed to exist)."""

    status = 404
    code = "not_found"


class RequestTimeoutError(ApiError):
    status = 408
    code = "request_timeout"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLargeError(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(ApiError):
    status = 415
    code = "unsupported_media_type"


class UnprocessableError(ApiError):
    status = 422
    code = "invalid_content"

    def __init__(
        self, message: str, problems: list[ConfigProblem], code: str | None = None
    ) -> None:
        super().__init__(
            message,
            code=code,
            details={"problems": [{"path": p.path, "message": p.message} for p in problems]},
        )


class TooManyRequestsError(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class DependencyUnavailableError(ApiError):
    status = 503
    code = "dependency_unavailable"
