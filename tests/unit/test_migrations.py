"""The forward-only migration runner on a real Postgres."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.database import (
    MigrationError,
    apply_migrations,
    create_pool,
    expand_includes,
    load_migrations,
)
from relay_shared.outbox import TABLE_SQL


@pytest.fixture
def migrations_package(tmp_path: Path, unique_id: str) -> Iterator[tuple[str, Path]]:
    name = f"relay_test_migrations_{unique_id}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "001_items.sql").write_text("CREATE TABLE items (id int PRIMARY KEY);\n")
    (folder / "002_more.sql").write_text("ALTER TABLE items ADD COLUMN name text;\n")
    (folder / "notes.txt").write_text("not a migration")
    sys.path.insert(0, str(tmp_path))
    try:
        yield name, folder
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


async def test_applies_in_order_once_and_refuses_edited_history(
    stack: StackEndpoints, migrations_package: tuple[str, Path], unique_id: str
) -> None:
    package, folder = migrations_package
    schema = f"s_{unique_id}"
    pool = await create_pool(stack.database_url, schema)
    try:
        assert await apply_migrations(pool, schema, package) == ["001_items.sql", "002_more.sql"]
        assert await apply_migrations(pool, schema, package) == []
        await pool.execute("INSERT INTO items (id, name) VALUES (1, 'one')")
        assert await pool.fetchval("SELECT name FROM items WHERE id = 1") == "one"
        (folder / "001_items.sql").write_text("CREATE TABLE items (id bigint PRIMARY KEY);\n")
        with pytest.raises(MigrationError, match=r"applied 001_items\.sql was changed"):
            await apply_migrations(pool, schema, package)
    finally:
        await pool.close()


async def test_a_failing_migration_leaves_nothing_half_applied(
    stack: StackEndpoints, migrations_package: tuple[str, Path], unique_id: str
) -> None:
    package, folder = migrations_package
    (folder / "003_broken.sql").write_text("CREATE TABLE ok_part (id int);\nSELECT nonsense(;\n")
    schema = f"s_{unique_id}"
    pool = await create_pool(stack.database_url, schema)
    try:
        with pytest.raises(asyncpg.PostgresSyntaxError):
            await apply_migrations(pool, schema, package)
        applied = await pool.fetch(f'SELECT name FROM "{schema}".schema_migrations ORDER BY 1')
        assert [r["name"] for r in applied] == ["001_items.sql", "002_more.sql"]
        assert await pool.fetchval("SELECT to_regclass('ok_part')") is None
    finally:
        await pool.close()


def test_the_migrations_that_include_the_outbox_keep_the_checksums_they_were_applied_with() -> None:
    """The outbox table moved into relay_shared.outbox; the files that spelled it out now
    include it, and expand to the very text (so the checksum) databases recorded."""
    checksums = {
        (package, m.name): m.checksum
        for package in ("relay_gateway", "relay_ingest", "relay_pricing", "relay_insights")
        for m in load_migrations(f"{package}.migrations")
        if m.name in ("004_outbox.sql", "005_outbox.sql", "003_outbox.sql", "001_insights.sql")
    }
    assert checksums == {
        ("relay_gateway", "004_outbox.sql"): (
            "64c75e1af162e5ba3a241879e0cdf26644e3bda92ea21181c4fc37c7d2461b3f"
        ),
        ("relay_ingest", "005_outbox.sql"): (
            "ca5c1e6c543078829cd12304ee62aa47cffc43a063c48ae323ce3b983952bd5e"
        ),
        ("relay_pricing", "003_outbox.sql"): (
            "b563bc4e1692b1355828d8133cd82f207ea02cacc0512e2defe9b256c814ad37"
        ),
        ("relay_insights", "001_insights.sql"): (
            "413d345c332e13d9cf1948ed3c038b56e0754ee02812c9a0863f4c218e7d4c66"
        ),
    }


def test_an_include_line_becomes_the_definition_and_an_unknown_one_is_named() -> None:
    text = "-- before\n\\include relay_shared.outbox\nSELECT 1;\n"
    assert expand_includes("m/001_x.sql", text) == f"-- before\n{TABLE_SQL}SELECT 1;\n"
    with pytest.raises(MigrationError, match=r"m/002_y\.sql: \\include relay_shared\.nothing"):
        expand_includes("m/002_y.sql", "\\include relay_shared.nothing\n")


async def test_an_included_definition_is_created_by_the_migration(
    stack: StackEndpoints, migrations_package: tuple[str, Path], unique_id: str
) -> None:
    package, folder = migrations_package
    (folder / "003_outbox.sql").write_text("\\include relay_shared.outbox\n")
    schema = f"s_{unique_id}"
    pool = await create_pool(stack.database_url, schema)
    try:
        assert await apply_migrations(pool, schema, package) == [
            "001_items.sql",
            "002_more.sql",
            "003_outbox.sql",
        ]
        assert await apply_migrations(pool, schema, package) == []
        recorded = await pool.fetchval(
            f'SELECT checksum FROM "{schema}".schema_migrations WHERE version = 3'
        )
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await pool.close()
    assert recorded == hashlib.sha256(TABLE_SQL.encode()).hexdigest()
