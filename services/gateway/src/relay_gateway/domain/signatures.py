"""Webhook authenticity: HMAC-SHA256 signatures and per-tenant tokens, in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

SIGNATURE_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value ShipStation sends: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_matches(header: str | None, body: bytes, secrets: Sequence[str]) -> bool:
    """True when ``header`` is a valid signature of ``body`` under any of ``secrets``
    (rotation: old and new secrets are both configured for a while). Every secret is
    compared, so the time taken does not reveal which one matched. A header that is not ASCII
    (undecodable bytes arrive as surrogate escapes) is simply wrong."""
    if not header or not header.isascii() or not header.startswith(SIGNATURE_PREFIX):
        return False
    given = header.encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(sign(secret, body).encode(), given)
    return matched


def token_matches(given: str | None, expected: str | None) -> bool:
    """True when ``given`` is the ``expected`` token. A token is ASCII: anything else (a
    header or query value decoded with surrogate escapes included) is simply wrong, never an
    encoding error."""
    if not given or not expected or not given.isascii():
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def parse_secrets(comma_separated: str, file_lines: Iterable[str]) -> list[str]:
    """Secrets from ``APP_WEBHOOK_SECRETS`` (comma-separated) and the secrets file (one per
    line; blank lines and ``#`` comments ignored), without duplicates, in order."""
    found: list[str] = []
    candidates = [*comma_separated.split(","), *file_lines]
    for raw in candidates:
        secret = raw.strip()
        if secret and not secret.startswith("#") and secret not in found:
            found.append(secret)
    return found
