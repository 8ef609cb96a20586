"""Tenant config bodies: YAML or JSON in, secrets redacted out."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import yaml

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_TYPES = frozenset({"application/json"})
SECRET_FIELDS = {"shipstation": ("webhook_token", "api_key", "api_secret")}
REDACTED = "***"


class UnsupportedMediaTypeError(ValueError):
    pass


class MalformedDocumentError(ValueError):
    pass


def load_document(content_type: str, raw: bytes) -> Any:
    """The YAML or JSON document (any shape; the config validator judges it)."""
    if content_type in JSON_TYPES:
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedDocumentError(f"the body is not valid JSON: {exc}") from exc
    if content_type in YAML_TYPES:
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise MalformedDocumentError(f"the body is not valid YAML: {exc}") from exc
    raise UnsupportedMediaTypeError(content_type)


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
    return result


def vendor_ids(config: dict[str, Any]) -> list[str]:
    """The vendor ids of a stored (already validated) config."""
    vendors = config.get("vendors") or []
    return [str(vendor["vendor_id"]) for vendor in vendors if isinstance(vendor, dict)]


def vendor_format(config: dict[str, Any], vendor_id: str) -> str | None:
    """The parser format of ``vendor_id`` (the inbound file's extension), None if unknown."""
    for vendor in config.get("vendors") or []:
        if isinstance(vendor, dict) and vendor.get("vendor_id") == vendor_id:
            parser = vendor.get("parser") or {}
            return str(parser.get("format", "csv"))
    return None


def webhook_token(config: dict[str, Any]) -> str | None:
    section = config.get("shipstation")
    if isinstance(section, dict):
        token = section.get("webhook_token")
        return token if isinstance(token, str) else None
    return None
