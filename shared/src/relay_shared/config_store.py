"""Tenant config versions as immutable objects in the bucket (a claim check for events).

The gateway owns the versions (its schema) and writes each new version here once; events
carry ``config_version``, and every service loads exactly that version, so a running run never
sees a later one. A version never changes, so it is cached in memory.
"""

from __future__ import annotations

import json
from typing import Any

from relay_shared.channel_config import ChannelSections, parse_channel_sections
from relay_shared.errors import NotFoundError, PermanentError
from relay_shared.keys import config_version_key
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import ConfigError, TenantConfig, parse_tenant_config


class TenantConfigStore:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._cache: dict[tuple[str, int], TenantConfig] = {}

    async def save(self, tenant_id: str, version: int, config: dict[str, Any]) -> str:
        key = config_version_key(tenant_id, version)
        body = json.dumps({"config_version": version, "config": config}, sort_keys=True)
        await self._store.put_bytes(key, body.encode(), content_type="application/json")
        return key

    async def load(self, tenant_id: str, version: int) -> TenantConfig:
        cached = self._cache.get((tenant_id, version))
        if cached is not None:
            return cached
        key = config_version_key(tenant_id, version)
        try:
            document = json.loads(await self._store.get_bytes(key))
        except NotFoundError as exc:
            raise PermanentError(
                f"config version {version} of tenant {tenant_id} is not stored",
                code="config_missing",
                key=key,
            ) from exc
        try:
            config = parse_tenant_config(document["config"])
        except ConfigError as exc:
            raise PermanentError(str(exc), code="invalid_config", key=key) from exc
        self._cache[(tenant_id, version)] = config
        return config

    async def load_channel_sections(self, tenant_id: str, version: int) -> ChannelSections:
        """The channel, insights and sheets sections of a stored config version."""
        config = await self.load(tenant_id, version)
        try:
            return parse_channel_sections(config)
        except ConfigError as exc:
            raise PermanentError(str(exc), code="invalid_config", version=version) from exc
