"""The bucket's key layout (the seed's ``tenants/{tenant}/...``): the only place it is spelled.

Keys under a run are deterministic, so a handler that runs twice overwrites its own output
instead of adding another.
"""

from __future__ import annotations

from datetime import datetime

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
