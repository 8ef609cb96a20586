"""The forward-only migration runner on a real Postgres."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.database import MigrationError, apply_migrations, create_pool


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
