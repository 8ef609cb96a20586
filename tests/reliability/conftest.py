"""Reliability tests: measured recovery times are printed in pytest's terminal summary."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RECOVERY_TIMES = pytest.StashKey[list[tuple[str, str]]]()


@pytest.fixture
def record_recovery(request: pytest.FixtureRequest) -> Callable[[str, float], None]:
    """``record_recovery("what", seconds)``: reported at the end of the session."""
    times = request.config.stash.setdefault(RECOVERY_TIMES, [])

    def record(what: str, seconds: float) -> None:
        times.append((request.node.name, f"{what}: {seconds:.2f}s"))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    times = terminalreporter.config.stash.get(RECOVERY_TIMES, [])
    if times:
        terminalreporter.section("recovery times (measured)")
        for test, line in times:
            terminalreporter.write_line(f"{test}: {line}")
