"""OAuth access tokens from refresh tokens, cached until shortly before they expire (a token
within ``EXPIRY_MARGIN_S`` of its stated expiry is refreshed before the next call; one
exchange per account at a time). A token the marketplace refused (401) is dropped with
:meth:`AccessTokens.drop`, so the next :meth:`AccessTokens.get` exchanges again. Tokens and
credentials live only in memory."""

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
        key = _key(account, secret)
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

    def drop(self, account: str, secret: str, value: str) -> None:
        """Forget ``account``'s cached token if it is still ``value`` (the marketplace
        refused it); a newer token another call fetched meanwhile is kept."""
        key = _key(account, secret)
        token = self._tokens.get(key)
        if token is not None and token.value == value:
            del self._tokens[key]


def _key(account: str, secret: str) -> str:
    return hashlib.sha256(f"{account}\x1f{secret}".encode()).hexdigest()
