"""API keys: ``rk_<random>``, shown once, stored as a SHA-256 hash.

Keys carry 256 bits of randomness, so a plain (unsalted) SHA-256 is enough to make the
stored hash useless to an attacker while allowing lookup by hash.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "rk_"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def looks_like_jwt(credential: str) -> bool:
    """A compact JWS has three dot-separated parts; anything else is tried as a key (the
    bootstrap admin key is whatever the operator chose)."""
    return credential.count(".") == 2


BOOTSTRAP_KEY_ID = "key_bootstrap_admin"
