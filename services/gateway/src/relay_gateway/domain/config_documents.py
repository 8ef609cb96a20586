"""Tenant config documents: YAML or JSON in, secrets redacted out, and the typed config of a
stored version."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from relay_gateway.domain import bounded_documents
from relay_shared.secrets_box import CHANNEL_CREDENTIALS, SECRET_FIELDS
from relay_shared.tenant_config import (
    TenantConfig,
    VendorConfig,
    map_inbound_secrets,
    parse_tenant_config,
)

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_TYPES = frozenset({"application/json"})
REDACTED = "***"


class UnknownDocumentTypeError(ValueError):
    """A config sent as neither YAML nor JSON."""


def load_document(content_type: str, raw: bytes) -> Any:
    """The YAML or JSON document (any shape; the config validator judges it), bounded in
    depth, size and alias expansion before it is built (:mod:`.bounded_documents`)."""
    if content_type in JSON_TYPES:
        return bounded_documents.load_json(raw)
    if content_type in YAML_TYPES:
        return bounded_documents.load_yaml(raw)
    raise UnknownDocumentTypeError(content_type)


def to_json_document(data: dict[str, Any]) -> dict[str, Any]:
    """The document as plain JSON values (YAML dates become ISO strings)."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=_iso_date))
    return result


def _iso_date(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def redact(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with its secrets replaced by ``***``."""
    result = dict(config)
    for section, fields in SECRET_FIELDS.items():
        value = result.get(section)
        if isinstance(value, dict):
            result[section] = {
                key: (REDACTED if key in fields and item is not None else item)
                for key, item in value.items()
            }
    result = map_inbound_secrets(result, lambda _vendor, _path, _item: REDACTED)
    return _with_credentials(
        result,
        {
            name: {key: REDACTED if item is not None else None for key, item in creds.items()}
            for name, creds in channel_credentials(result).items()
        },
    )


def channel_credentials(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each channel's ``channels.<name>.credentials`` mapping (every value a secret)."""
    channels = config.get("channels")
    if not isinstance(channels, dict):
        return {}
    return {
        name: channel[CHANNEL_CREDENTIALS]
        for name, channel in channels.items()
        if isinstance(channel, dict) and isinstance(channel.get(CHANNEL_CREDENTIALS), dict)
    }


def _with_credentials(
    config: dict[str, Any], credentials: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    """A copy of ``config`` whose channels hold ``credentials`` (by channel name)."""
    if not credentials:
        return config
    channels = dict(config["channels"])
    for name, creds in credentials.items():
        channels[name] = {**channels[name], CHANNEL_CREDENTIALS: creds}
    return {**config, "channels": channels}


def has_secrets(config: dict[str, Any]) -> bool:
    """True when any secret field holds a value."""
    for section, fields in SECRET_FIELDS.items():
        values = config.get(section)
        if isinstance(values, dict) and any(values.get(f) is not None for f in fields):
            return True
    found: list[object] = []
    map_inbound_secrets(config, lambda _vendor, _path, item: found.append(item))
    if found:
        return True
    return any(
        item is not None
        for creds in channel_credentials(config).values()
        for item in creds.values()
    )


class UnknownSecretError(ValueError):
    """A secret given as ``***`` that no earlier version holds."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is ***, but no earlier version holds it")
        self.path = path


def carry_secrets(config: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of ``config`` where a secret sent back redacted (``***``, as GET shows it) keeps
    the previous version's (sealed) value, so a config can be read, edited and put back."""
    result = dict(config)
    for section, fields in SECRET_FIELDS.items():
        values = result.get(section)
        if not isinstance(values, dict):
            continue
        earlier = (previous or {}).get(section)
        earlier = earlier if isinstance(earlier, dict) else {}
        kept = dict(values)
        for field in fields:
            if kept.get(field) != REDACTED:
                continue
            if earlier.get(field) is None:
                raise UnknownSecretError(f"{section}.{field}")
            kept[field] = earlier[field]
        result[section] = kept
    result = _carry_inbound(result, previous or {})
    return _carry_credentials(result, previous or {})


def _carry_inbound(config: dict[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`carry_secrets` for the vendors' inbound secrets, matched by vendor id and path
    (not by position: vendors may be reordered)."""
    earlier: dict[tuple[str, str], object] = {}

    def remember(vendor_id: str, path: str, item: object) -> object:
        earlier[(vendor_id, path)] = item
        return item

    map_inbound_secrets(previous, remember)
    positions = {
        str(vendor.get("vendor_id")): index
        for index, vendor in enumerate(config.get("vendors") or [])
        if isinstance(vendor, dict)
    }

    def carried(vendor_id: str, path: str, item: object) -> object:
        if item != REDACTED:
            return item
        if (vendor_id, path) not in earlier:
            raise UnknownSecretError(f"vendors[{positions.get(vendor_id, 0)}].inbound.{path}")
        return earlier[(vendor_id, path)]

    return map_inbound_secrets(config, carried)


def _carry_credentials(config: dict[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`carry_secrets` for ``channels.<name>.credentials``."""
    earlier_all = channel_credentials(previous)
    carried: dict[str, dict[str, Any]] = {}
    for name, creds in channel_credentials(config).items():
        earlier = earlier_all.get(name, {})
        kept = dict(creds)
        for key, item in creds.items():
            if item != REDACTED:
                continue
            if earlier.get(key) is None:
                raise UnknownSecretError(f"channels.{name}.{CHANNEL_CREDENTIALS}.{key}")
            kept[key] = earlier[key]
        carried[name] = kept
    return _with_credentials(config, carried)


def stored_config(document: Mapping[str, Any]) -> TenantConfig:
    """The typed config of a stored version (validated when it was put). Its secrets are
    left out: they are stored sealed, and only :mod:`relay_shared.secrets_box` reads them.
    Raises :class:`relay_shared.tenant_config.ConfigError` if it no longer validates."""
    return parse_tenant_config(_without_secrets(document))


def _without_secrets(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its sealed values (inbound secrets become ``***``: an sftp
    vendor needs a password or a key to validate)."""
    result = map_inbound_secrets(document, lambda _vendor, _path, _item: REDACTED)
    for section, fields in SECRET_FIELDS.items():
        values = result.get(section)
        if isinstance(values, dict):
            result[section] = {key: item for key, item in values.items() if key not in fields}
    return result


def find_vendor(config: TenantConfig, vendor_id: str) -> VendorConfig | None:
    """The vendor ``vendor_id`` of ``config``, None if it has none."""
    return next((vendor for vendor in config.vendors if vendor.vendor_id == vendor_id), None)


def with_tenant_channels(document: dict[str, Any], channels: Sequence[str]) -> dict[str, Any]:
    """A copy of ``document`` where every channel of the tenant (named at its creation) has a
    section: one the config leaves out gets ``{}``, the defaults (enabled, allocation 100 %,
    buffer 0, no subscriptions, no actions, dry-run). Channels the config adds stay."""
    sections = document.get("channels")
    merged = dict(sections) if isinstance(sections, dict) else {}
    for channel in channels:
        merged.setdefault(channel, {})
    return {**document, "channels": merged}


def configured_channels(document: Mapping[str, Any], channels: Sequence[str]) -> list[str]:
    """Every channel of the tenant: those named at its creation plus those the config adds."""
    sections = document.get("channels")
    added = sections.keys() if isinstance(sections, dict) else ()
    return sorted({*channels, *added})
