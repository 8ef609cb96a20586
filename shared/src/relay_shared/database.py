"""Postgres access: a pool bound to one service's schema, and forward-only migrations.

Migrations are the ``NNN_name.sql`` files of a package (``relay_<service>.migrations``),
applied in order at start under an advisory lock (replicas may start together) and recorded in
``<schema>.schema_migrations`` with the checksum of their text. An applied file is never
edited: a change is a new file.

A definition every service shares is written once in ``relay_shared`` and included where a
migration needs it with a line ``\\include <module>`` (:data:`INCLUDES`: the outbox table,
``\\include relay_shared.outbox``). The line is replaced by the definition's text before the
migration is checksummed and run, so a migration that spelled the definition out before it moved
here keeps its checksum.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

import asyncpg
import structlog

from relay_shared import outbox

log = structlog.get_logger(__name__)
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_INCLUDE = re.compile(r"^\\include (\S+)$", re.MULTILINE)
#: What a migration may include, by the module that owns it.
INCLUDES: Final[dict[str, str]] = {"relay_shared.outbox": outbox.TABLE_SQL}


class MigrationError(RuntimeError):
    """A migration file is malformed, or an applied one was changed."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def expand_includes(name: str, text: str) -> str:
    """``text`` with each ``\\include <module>`` line replaced by that module's definition."""

    def definition(match: re.Match[str]) -> str:
        module = match.group(1)
        if module not in INCLUDES:
            raise MigrationError(f"{name}: \\include {module}: no such definition {list(INCLUDES)}")
        return INCLUDES[module].removesuffix("\n")

    return _INCLUDE.sub(definition, text)


def load_migrations(package: str) -> list[Migration]:
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        sql = expand_includes(f"{package}/{entry.name}", entry.read_text("utf-8"))
        found.append(Migration(int(match.group(1)), entry.name, sql))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{package}: two migrations share a number: {versions}")
    return found


async def create_pool(dsn: str, schema: str, *, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see ``schema`` first on their search path."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        server_settings={"search_path": schema, "timezone": "UTC"},
    )
    if pool is None:  # asyncpg types it Optional; a pool that was awaited is always made
        raise ConnectionError(f"no pool could be created for schema {schema!r}")
    return pool


async def apply_migrations(pool: asyncpg.Pool, schema: str, package: str) -> list[str]:
    """Apply the package's pending migrations to ``schema``; returns the names applied."""
    migrations = load_migrations(package)
    lock_key = int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
                " version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            rows = await conn.fetch(f'SELECT version, checksum FROM "{schema}".schema_migrations')
            applied = {r["version"]: r["checksum"] for r in rows}
            for migration in migrations:
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise MigrationError(f"{schema}: applied {migration.name} was changed")
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}"')
                    await conn.execute(migration.sql)
                    await conn.execute(
                        f'INSERT INTO "{schema}".schema_migrations (version, name, checksum)'
                        " VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                applied_now.append(migration.name)
            await outbox.upgrade_table(conn, schema)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    if applied_now:
        log.info("migrations.applied", schema=schema, names=applied_now)
    return applied_now
