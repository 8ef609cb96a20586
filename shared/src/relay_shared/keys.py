"""The bucket's key layout (the seed's ``tenants/{tenant}/...``): the only place it is spelled.

Keys under a run are deterministic, so a handler that runs twice overwrites its own output
instead of adding another.
"""

from __future__ import annotations

from datetime import datetime

from relay_shared.errors import PermanentError

RETAINED_PREFIXES = ("inbound", "normalized", "outputs", "reports", "logs")


def tenant_prefix(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/"


def inbound_prefix(tenant_id: str, vendor_id: str) -> str:
    return f"tenants/{tenant_id}/inbound/{vendor_id}/"


def inbound_key(tenant_id: str, vendor_id: str, at: datetime, upload_id: str, ext: str) -> str:
    return f"{inbound_prefix(tenant_id, vendor_id)}{at:%Y/%m/%d}/{upload_id}/raw.{ext.lstrip('.')}"


def normalized_key(tenant_id: str, vendor_id: str, scope_id: str) -> str:
    return f"tenants/{tenant_id}/normalized/{vendor_id}/{scope_id}/normalized.csv"


def findings_key(tenant_id: str, vendor_id: str, scope_id: str) -> str:
    return f"tenants/{tenant_id}/reports/{scope_id}/vendors/{vendor_id}.json"


def output_key(tenant_id: str, run_id: str, name: str) -> str:
    return f"tenants/{tenant_id}/outputs/{run_id}/{name}"


def report_key(tenant_id: str, run_id: str, name: str) -> str:
    return f"tenants/{tenant_id}/reports/{run_id}/{name}"


def config_version_key(tenant_id: str, version: int) -> str:
    return f"tenants/{tenant_id}/config/versions/{version:08d}.json"


def sku_map_key(tenant_id: str, vendor_id: str) -> str:
    return f"tenants/{tenant_id}/config/sku_map_{vendor_id}.csv"


class ForeignKeyError(PermanentError):
    """A key or prefix that does not lie under the tenant's own prefix: permanent (never
    retried, never read). The message never says whether such an object exists."""

    code = "foreign_key"

    def __init__(self, tenant_id: str, key: str) -> None:
        super().__init__(f"must lie under {tenant_prefix(tenant_id)} (got {key[:200]!r})")
        self.tenant_id = tenant_id
        self.key = key

    def __str__(self) -> str:
        return self.message


def is_tenant_key(tenant_id: str, key: str) -> bool:
    """True when ``key`` names something under ``tenants/{tenant_id}/``: no ``..``, ``.`` or
    empty segment, no backslash or control character, nothing that a store or a file system
    could resolve to another tenant's object."""
    prefix = tenant_prefix(tenant_id)
    if not key.startswith(prefix) or len(key) > 1024:
        return False
    if any(ord(char) < 0x20 or char in "\\\x7f" for char in key):
        return False
    rest = key[len(prefix) :]
    segments = rest.split("/")
    if rest.endswith("/"):
        segments = segments[:-1]
    return bool(segments) and all(part not in ("", ".", "..") for part in segments)


def tenant_key(tenant_id: str, key: str) -> str:
    """``key`` when it is the tenant's own (:func:`is_tenant_key`); :class:`ForeignKeyError`
    otherwise. Called where a key from a config or an event is read (defence in depth)."""
    if not is_tenant_key(tenant_id, key):
        raise ForeignKeyError(tenant_id, key)
    return key
