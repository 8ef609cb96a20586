"""Upgrading pricing to the shared outbox (migration 003) on a real Postgres: a merge whose
event was recorded but not yet published moves to the outbox, with its event id and body, and
is published by the next drain; a merge already announced is not published again."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.database import apply_migrations, create_pool
from relay_shared.events import Event, RunFailed
from relay_shared.outbox import Outbox

pytestmark = pytest.mark.stack
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def pricing_copy(tmp_path: Path, unique_id: str) -> Iterator[tuple[str, Path]]:
    """A package holding pricing's migrations before the outbox (001, 002)."""
    name = f"relay_test_pricing_{unique_id}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for entry in resources.files("relay_pricing.migrations").iterdir():
        if entry.name.startswith(("001_", "002_")):
            (folder / entry.name).write_text(entry.read_text("utf-8"))
    sys.path.insert(0, str(tmp_path))
    try:
        yield name, folder
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def _failed(run_id: str) -> RunFailed:
    return RunFailed(
        event_id=f"run.failed:{run_id}",
        occurred_at=T0,
        tenant_id="t",
        correlation_id="c",
        run_id=run_id,
        stage="merge",
        code="feed_drift",
        message="drift",
        report_key=None,
    )


async def test_a_recorded_unannounced_merge_event_moves_to_the_outbox(
    stack: StackEndpoints, pricing_copy: tuple[str, Path], unique_id: str
) -> None:
    package, folder = pricing_copy
    schema = f"upgrade_{unique_id}"
    pending, announced = _failed("run-pending"), _failed("run-announced")
    pool = await create_pool(stack.database_url, schema)
    try:
        assert await apply_migrations(pool, schema, package) == [
            "001_assembly.sql",
            "002_announcements_and_baselines.sql",
        ]
        for event, announced_at in ((pending, None), (announced, T0)):
            await pool.execute(
                "INSERT INTO merges (scope_id, tenant_id, status, merged_rows,"
                " announcement_subject, announcement, announced_at)"
                " VALUES ($1, 't', 'failed', 0, $2, $3, $4)",
                event.run_id,
                event.subject,
                event.model_dump_json(),
                announced_at,
            )
        outbox_sql = resources.files("relay_pricing.migrations") / "003_outbox.sql"
        (folder / "003_outbox.sql").write_text(outbox_sql.read_text("utf-8"))

        assert await apply_migrations(pool, schema, package) == ["003_outbox.sql"]
        merges = await pool.fetch(
            "SELECT scope_id, announced_at IS NOT NULL AS announced FROM merges ORDER BY 1"
        )
        published: list[Event] = []

        async def publish(event: Event) -> bool:
            published.append(event)
            return True

        drained = await Outbox(pool).drain(publish)
    finally:
        await pool.close()

    assert [tuple(row) for row in merges] == [("run-announced", True), ("run-pending", True)]
    assert (drained, published) == (1, [pending])
