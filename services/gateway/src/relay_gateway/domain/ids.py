"""Identifiers that sort by creation time (newest last), with a random tail."""

from __future__ import annotations

import secrets
from datetime import datetime


def time_sortable_id(prefix: str, at: datetime) -> str:
    """``<prefix>_<13 hex digits of ms since epoch><16 random hex>``: lexical order is
    creation order (to the millisecond) across processes."""
    millis = int(at.timestamp() * 1000)
    return f"{prefix}_{millis:013x}{secrets.token_hex(8)}"


def upload_id(at: datetime) -> str:
    """An upload's folder name: ``YYYYMMDDTHHMMSSffffffZ-<hex>``, sortable by time."""
    return f"{at:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"
