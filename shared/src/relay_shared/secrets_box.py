"""Tenant secrets sealed at rest (ShipStation's webhook token, API key and API secret,
every value of a channel's ``channels.<name>.credentials``, the marketplace credentials, and
each vendor's pull secrets, ``vendors[i].inbound`` at
:data:`relay_shared.tenant_config.inbound.INBOUND_SECRET_PATHS`).

The gateway seals a tenant's secrets before a config version is stored (its database and the
immutable copy in the bucket that other services read); a service that needs one (ingest's
ShipStation fetch) opens it with the same ``APP_SECRET_KEY``. Nothing else can read them.

The key is derived from ``APP_SECRET_KEY`` with HKDF-SHA256 (its own salt and purpose, so it
never equals the JWT signing key) and used with Fernet (AES-128-CBC + HMAC-SHA256,
authenticated). A sealed value is the text ``sealed:v1:<fernet token>``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from relay_shared.tenant_config.inbound import map_inbound_secrets

SEALED_PREFIX: Final = "sealed:v1:"
_SALT: Final = b"relay.secrets_box.v1"
_INFO: Final = b"tenant-config-secrets"
#: The secret fields of each config section: sealed when stored, never returned by the API.
SECRET_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "shipstation": ("webhook_token", "api_key", "api_secret"),
}
#: Every value of ``channels.<name>.credentials`` is a secret (the names vary by plugin).
CHANNELS_SECTION: Final = "channels"
CHANNEL_CREDENTIALS: Final = "credentials"


class SecretsBoxError(ValueError):
    """A value cannot be sealed or opened (no key, not sealed, wrong key or tampered)."""


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


class SecretsBox:
    """Seals and opens tenant secrets with a key derived from ``APP_SECRET_KEY``."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise SecretsBoxError("APP_SECRET_KEY is not set: tenant secrets cannot be sealed")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plaintext: str) -> str:
        token = self._fernet.encrypt(plaintext.encode()).decode()
        return SEALED_PREFIX + token

    def open(self, sealed: str) -> str:
        if not is_sealed(sealed):
            raise SecretsBoxError("the value is not sealed")
        try:
            return self._fernet.decrypt(sealed.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise SecretsBoxError("the value was sealed with another key or changed") from exc

    def seal_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``config`` with every plaintext secret field sealed (sealed ones kept)."""
        result = dict(config)
        for section, fields in SECRET_FIELDS.items():
            values = result.get(section)
            if not isinstance(values, dict):
                continue
            result[section] = {
                key: self._sealed(item) if key in fields else item for key, item in values.items()
            }
        channels = result.get(CHANNELS_SECTION)
        if isinstance(channels, dict):
            result[CHANNELS_SECTION] = {
                name: self._channel_sealed(channel) for name, channel in channels.items()
            }
        return map_inbound_secrets(result, lambda _vendor, _path, item: self._sealed(item))

    def _channel_sealed(self, channel: object) -> object:
        if not isinstance(channel, dict):
            return channel
        credentials = channel.get(CHANNEL_CREDENTIALS)
        if not isinstance(credentials, dict):
            return channel
        sealed = {key: self._sealed(item) for key, item in credentials.items()}
        return {**channel, CHANNEL_CREDENTIALS: sealed}

    def open_all(self, sealed: Mapping[str, str]) -> dict[str, str]:
        """The plaintext of every sealed value of a mapping (a channel's credentials)."""
        return {key: self.open(value) for key, value in sealed.items()}

    def _sealed(self, item: object) -> object:
        if isinstance(item, str) and not is_sealed(item):
            return self.seal(item)
        return item

    def open_field(self, config: Mapping[str, Any], section: str, field: str) -> str | None:
        """The plaintext of a sealed secret field, None when the config has none."""
        values = config.get(section)
        if not isinstance(values, Mapping):
            return None
        item = values.get(field)
        if item is None:
            return None
        if not isinstance(item, str):
            raise SecretsBoxError(f"{section}.{field} is not a sealed text")
        return self.open(item)
