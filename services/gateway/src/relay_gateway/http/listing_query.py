"""The query parameters of a newest-first listing, read one way for every listing: a choice
among named values, the page size, the cursor and the visible channels (422 / 400 / 403)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from aiohttp import web

from relay_gateway.domain.insights import ChannelDeniedError, visible_channels
from relay_gateway.domain.pagination import INSIGHT_PAGES, Cursor, InvalidCursorError, PageSize
from relay_gateway.domain.query_params import bounded_int
from relay_gateway.http.access import Call
from relay_gateway.http.errors import BadRequestError, ForbiddenError, UnprocessableError
from relay_shared.tenant_config import ConfigProblem

QUERY_NOT_VALID = "the query is not valid"

T = TypeVar("T")

#: The query parameters every paged listing declares (after its own).
PAGING = (("limit", "integer"), ("cursor", "string"))


def invalid(path: str, message: str, title: str = QUERY_NOT_VALID) -> UnprocessableError:
    """422 naming the one parameter that is wrong."""
    return UnprocessableError(title, [ConfigProblem(path, message)])


def choice(
    request: web.Request, name: str, choices: tuple[str, ...], title: str = QUERY_NOT_VALID
) -> str | None:
    """The parameter ``name`` when given: one of ``choices`` (422 otherwise)."""
    value = request.query.get(name)
    if value is not None and value not in choices:
        raise invalid(name, f"must be one of {', '.join(choices)}", title)
    return value


def page_limit(request: web.Request, size: PageSize, title: str = QUERY_NOT_VALID) -> int:
    """``limit``: 1 to ``size.maximum``, ``size.default`` when absent (422 otherwise)."""
    limit = bounded_int(request.query.get("limit", str(size.default)), 1, size.maximum)
    if limit is None:
        raise invalid("limit", f"must be an integer from 1 to {size.maximum}", title)
    return limit


def page_cursor(request: web.Request) -> Cursor | None:
    """``cursor`` decoded, None when absent (400 when this gateway did not make it)."""
    raw_cursor = request.query.get("cursor")
    try:
        return None if raw_cursor is None else Cursor.decode(raw_cursor)
    except InvalidCursorError as exc:
        raise BadRequestError(str(exc), code="invalid_cursor") from exc


def channel_page(
    call: Call, channel: str | None
) -> tuple[int, Cursor | None, frozenset[str] | None]:
    """The page size, the cursor and the channels the principal may see of ``channel``
    (all of its own when None) of a channel-scoped listing."""
    limit = page_limit(call.request, INSIGHT_PAGES)
    cursor = page_cursor(call.request)
    try:
        channels = visible_channels(call.principal, channel)
    except ChannelDeniedError as exc:
        raise ForbiddenError(str(exc), code="channel_not_allowed") from exc
    return limit, cursor, channels


def next_page(
    found: Sequence[T], limit: int, position: Callable[[T], Cursor]
) -> tuple[list[T], str | None]:
    """The first ``limit`` items of ``found`` (fetched ``limit + 1``) and the cursor after
    them; None on the last page."""
    page = list(found[:limit])
    return page, position(page[-1]).encode() if len(found) > limit else None
