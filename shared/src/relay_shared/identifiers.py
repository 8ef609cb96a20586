"""The shapes of the ids that name things in keys, subjects, tables and URLs.

An id becomes part of an S3 key (``tenants/{tenant}/inbound/{vendor}/…``), a file name, a log
line and a database value, so it is checked against one of these patterns wherever it enters
(HTTP path and query, request bodies, tenant configs, events): no slash, no ``..``, no NUL or
other control character, no leading dot, and a bounded length.
"""

from __future__ import annotations

import re
from typing import Final

TENANT_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
VENDOR_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CHANNEL_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,31}$"
RUN_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
KEY_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

_COMPILED: Final = {
    pattern: re.compile(pattern)
    for pattern in (
        TENANT_ID_PATTERN,
        VENDOR_ID_PATTERN,
        CHANNEL_PATTERN,
        RUN_ID_PATTERN,
        KEY_ID_PATTERN,
    )
}


def matches(pattern: str, value: str) -> bool:
    """True when ``value`` has the shape ``pattern`` (one of this module's patterns) names.

    ``fullmatch`` and ASCII-only classes: ``$`` alone would accept a trailing newline."""
    compiled = _COMPILED.get(pattern) or re.compile(pattern)
    return compiled.fullmatch(value) is not None
