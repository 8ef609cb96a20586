"""A worker's readiness never answers ready from a half-registered set of checks."""

from __future__ import annotations

from relay_shared.health import ReadinessChecks


async def test_a_check_added_while_others_run_is_not_skipped_in_a_ready_answer() -> None:
    readiness = ReadinessChecks()

    async def nats() -> None:
        raise ConnectionError("no consumer yet")

    async def postgres() -> None:
        # The broker finishes starting while this check is awaited.
        readiness.add("nats", nats)
        readiness.started = True

    readiness.add("postgres", postgres)
    assert await readiness.results() == {"postgres": "ok", "service": "starting"}
    assert await readiness.results() == {
        "postgres": "ok",
        "nats": "failed: ConnectionError('no consumer yet')",
    }
