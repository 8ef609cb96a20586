"""The Relay services that ``relay serve`` and ``relay up`` know about."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

SERVICES: tuple[str, ...] = (
    "gateway",
    "ingest",
    "normalize",
    "pricing",
    "insights",
    "sheets",
    "channels",
)

#: The service whose HTTP port is published (``APP_HTTP_PORT``) and probed for readiness.
HTTP_SERVICE = "gateway"

#: Service name -> module providing ``async def main() -> None``.
SERVICE_MODULES: Mapping[str, str] = MappingProxyType(
    {name: f"relay_{name}.app" for name in SERVICES}
)
