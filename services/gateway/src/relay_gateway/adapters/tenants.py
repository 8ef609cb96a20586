"""Tenants, their API keys and config versions (schema ``gateway``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay_gateway.domain.roles import Role
from relay_shared.events import Event
from relay_shared.outbox import Outbox


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    channels: list[str]
    config_version: int | None


@dataclass(frozen=True)
class StoredApiKey:
    key_id: str
    tenant_id: str | None
    roles: frozenset[Role]


@dataclass(frozen=True)
class ConfigVersion:
    version: int
    config: dict[str, Any]
    kind: str = "active"  # or "preview": a config a preview ran, never current


@dataclass(frozen=True)
class Provenance:
    """How a version came to be: restored from an earlier one, or activated with a preview
    (``forced`` past the config's guard by an owner)."""

    restored_from: int | None = None
    preview_id: str | None = None
    forced: bool = False


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    created_by: str
    created_at: datetime
    current: bool
    provenance: Provenance


class TenantExistsError(Exception):
    pass


def _tenant(row: asyncpg.Record) -> Tenant:
    return Tenant(row["tenant_id"], row["name"], list(row["channels"]), row["config_version"])


def _stored_key(row: asyncpg.Record) -> StoredApiKey:
    return StoredApiKey(row["key_id"], row["tenant_id"], frozenset(Role(r) for r in row["roles"]))


class TenantsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(
        self,
        tenant: Tenant,
        key_id: str,
        key_hash: str,
        roles: frozenset[Role],
        events: Sequence[Event] = (),
    ) -> None:
        """The tenant and its first (owner) key, together, with ``events`` in the outbox."""
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                "INSERT INTO tenants (tenant_id, name, channels) VALUES ($1, $2, $3)"
                " ON CONFLICT (tenant_id) DO NOTHING RETURNING tenant_id",
                tenant.tenant_id,
                tenant.name,
                tenant.channels,
            )
            if inserted is None:
                raise TenantExistsError(tenant.tenant_id)
            await _insert_key(conn, key_id, tenant.tenant_id, key_hash, roles)
            await Outbox.add(conn, *events)

    async def get(self, tenant_id: str) -> Tenant | None:
        row = await self._pool.fetchrow("SELECT * FROM tenants WHERE tenant_id = $1", tenant_id)
        return None if row is None else _tenant(row)

    async def add_key(
        self, key_id: str, tenant_id: str | None, key_hash: str, roles: frozenset[Role]
    ) -> None:
        async with self._pool.acquire() as conn:
            await _insert_key(conn, key_id, tenant_id, key_hash, roles)

    async def ensure_platform_key(self, key_id: str, key_hash: str) -> None:
        """The bootstrap admin key: created, or replaced and un-revoked."""
        await self._pool.execute(
            "INSERT INTO api_keys (key_id, tenant_id, key_hash, roles) VALUES ($1, NULL, $2, $3)"
            " ON CONFLICT (key_id) DO UPDATE SET key_hash = EXCLUDED.key_hash,"
            " roles = EXCLUDED.roles, revoked_at = NULL",
            key_id,
            key_hash,
            [Role.ADMIN.value],
        )

    async def find_key(self, key_hash: str) -> StoredApiKey | None:
        row = await self._pool.fetchrow(
            "SELECT key_id, tenant_id, roles FROM api_keys"
            " WHERE key_hash = $1 AND revoked_at IS NULL",
            key_hash,
        )
        return None if row is None else _stored_key(row)

    async def active_key(self, key_id: str) -> StoredApiKey | None:
        """The key ``key_id`` unless it is revoked (or unknown)."""
        row = await self._pool.fetchrow(
            "SELECT key_id, tenant_id, roles FROM api_keys"
            " WHERE key_id = $1 AND revoked_at IS NULL",
            key_id,
        )
        return None if row is None else _stored_key(row)

    async def revoke_key(self, tenant_id: str, key_id: str) -> bool:
        """True when the tenant's key was active and is now revoked."""
        revoked = await self._pool.fetchval(
            "UPDATE api_keys SET revoked_at = now()"
            " WHERE tenant_id = $1 AND key_id = $2 AND revoked_at IS NULL RETURNING key_id",
            tenant_id,
            key_id,
        )
        return revoked is not None

    async def config(self, tenant_id: str, version: int | None = None) -> ConfigVersion | None:
        """A config version of the tenant (the current one when ``version`` is None)."""
        row = await self._pool.fetchrow(
            "SELECT c.version, c.config, c.kind FROM config_versions c"
            " JOIN tenants t USING (tenant_id)"
            " WHERE c.tenant_id = $1 AND c.version = COALESCE($2, t.config_version)",
            tenant_id,
            version,
        )
        if row is None:
            return None
        return ConfigVersion(row["version"], json.loads(row["config"]), row["kind"])

    async def add_config_version(
        self,
        tenant_id: str,
        config: dict[str, Any],
        created_by: str,
        store: Callable[[int], Awaitable[str]],
        announce: Callable[[int], Sequence[Event]] = lambda _version: (),
        provenance: Provenance = Provenance(),
    ) -> int:
        """The next version of the tenant's config. ``store(version)`` writes the immutable
        copy to S3 before the version becomes visible here, so a recorded version is always
        loadable by other services."""
        async with self._pool.acquire() as conn, conn.transaction():
            version = await _next_version(conn, tenant_id)
            s3_key = await store(version)
            await conn.execute(
                "INSERT INTO config_versions (tenant_id, version, config, s3_key, created_by,"
                " restored_from, preview_id, forced) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                tenant_id,
                version,
                json.dumps(config),
                s3_key,
                created_by,
                provenance.restored_from,
                provenance.preview_id,
                provenance.forced,
            )
            await conn.execute(
                "UPDATE tenants SET config_version = $2 WHERE tenant_id = $1", tenant_id, version
            )
            await Outbox.add(conn, *announce(version))
        return version

    async def add_preview_version(
        self,
        tenant_id: str,
        config: dict[str, Any],
        created_by: str,
        store: Callable[[int], Awaitable[str]],
    ) -> int:
        """A proposed config stored for a preview (kind ``preview``): loadable by its number
        like any version, never current. Returns its number."""
        async with self._pool.acquire() as conn, conn.transaction():
            version = await _next_version(conn, tenant_id)
            s3_key = await store(version)
            await conn.execute(
                "INSERT INTO config_versions (tenant_id, version, config, s3_key, created_by,"
                " kind) VALUES ($1, $2, $3, $4, $5, 'preview')",
                tenant_id,
                version,
                json.dumps(config),
                s3_key,
                created_by,
            )
        return version

    async def config_history(self, tenant_id: str, limit: int) -> list[HistoryEntry]:
        """The tenant's config versions, newest first."""
        rows = await self._pool.fetch(
            "SELECT c.version, c.created_by, c.created_at, c.restored_from, c.preview_id,"
            " c.forced, c.version = t.config_version AS current"
            " FROM config_versions c JOIN tenants t USING (tenant_id)"
            " WHERE c.tenant_id = $1 AND c.kind = 'active' ORDER BY c.version DESC LIMIT $2",
            tenant_id,
            limit,
        )
        return [
            HistoryEntry(
                row["version"],
                row["created_by"],
                row["created_at"],
                row["current"],
                Provenance(row["restored_from"], row["preview_id"], row["forced"]),
            )
            for row in rows
        ]

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")


async def _next_version(conn: PoolConnectionProxy[asyncpg.Record], tenant_id: str) -> int:
    """The tenant's next version number (both kinds share them), the tenant row locked."""
    await conn.execute("SELECT 1 FROM tenants WHERE tenant_id = $1 FOR UPDATE", tenant_id)
    latest = await conn.fetchval(
        "SELECT max(version) FROM config_versions WHERE tenant_id = $1", tenant_id
    )
    return int(latest or 0) + 1


async def _insert_key(
    conn: PoolConnectionProxy[asyncpg.Record],
    key_id: str,
    tenant_id: str | None,
    key_hash: str,
    roles: frozenset[Role],
) -> None:
    await conn.execute(
        "INSERT INTO api_keys (key_id, tenant_id, key_hash, roles) VALUES ($1, $2, $3, $4)",
        key_id,
        tenant_id,
        key_hash,
        sorted(role.value for role in roles),
    )
