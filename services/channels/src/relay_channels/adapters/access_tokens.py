"""OAuth access tokens from refresh tokens, cached until shortly before they expire (one
exchange per account at a time). Tokens and credentials live only in memory."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from relay_channels.adapters.marketplace_http import Answer, MarketplaceRejectedError

#: refresh this long before the token's stated expiry
EXPIRY_MARGIN_S = 60.0


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


class AccessTokens:
    def __init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, account: str, secret: str, exchange: Callable[[], Awaitable[Answer]]
    ) -> str:
        """The cached token of ``account`` (its ``secret`` keys the cache, hashed), else the
        one ``exchange`` returns."""
        key = hashlib.sha256(f"{account}\x1f{secret}".encode()).hexdigest()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            token = self._tokens.get(key)
            if token is not None and token.expires_at > time.monotonic():
                return token.value
            answer = await exchange()
            body = answer.body if isinstance(answer.body, dict) else {}
            value, expires_in = body.get("access_token"), body.get("expires_in", 3600)
            if not isinstance(value, str) or not isinstance(expires_in, int | float):
                raise MarketplaceRejectedError(answer.status, "the token answer has no token")
            expires_at = time.monotonic() + max(0.0, float(expires_in) - EXPIRY_MARGIN_S)
            self._tokens[key] = _Token(value, expires_at)
            return value
