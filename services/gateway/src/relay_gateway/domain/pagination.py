"""Opaque cursors for newest-first listings: the position of the last item returned."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from relay_gateway.domain.bounded_documents import (
    DocumentLimits,
    DocumentRefusedError,
    load_json,
)

CURSOR_LIMITS = DocumentLimits(max_depth=2, max_nodes=8, max_aliases=0, max_string_chars=128)


@dataclass(frozen=True)
class PageSize:
    """How many items a listing returns: ``default`` unless ``limit`` asks for 1 to
    ``maximum``."""

    default: int
    maximum: int


RUN_PAGES = PageSize(default=20, maximum=100)
INSIGHT_PAGES = PageSize(default=100, maximum=1000)


class InvalidCursorError(ValueError):
    """The cursor was not made by this gateway (400)."""


@dataclass(frozen=True)
class Cursor:
    """Items strictly older than (``at``, ``item_id``) come next."""

    at: datetime
    item_id: str

    def encode(self) -> str:
        raw = json.dumps({"at": self.at.isoformat(), "id": self.item_id}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = load_json(raw, CURSOR_LIMITS)
            at = datetime.fromisoformat(data["at"])
            item_id = data["id"]
        except (binascii.Error, DocumentRefusedError, ValueError, KeyError, TypeError) as exc:
            raise InvalidCursorError("the cursor is not valid") from exc
        if not isinstance(item_id, str) or len(item_id) > 128 or at.tzinfo is None:
            raise InvalidCursorError("the cursor is not valid")
        return cls(at, item_id)


def after_params(after: Cursor | None) -> tuple[datetime | None, str | None]:
    """A cursor as the (at, item_id) parameters of a keyset query; both None on the first
    page."""
    return (None, None) if after is None else (after.at, after.item_id)
