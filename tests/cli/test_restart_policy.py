"""relay up's restart decisions: exponential backoff, its reset, and when it gives up."""

from __future__ import annotations

import pytest

from relay_cli.stack.restart_policy import (
    CrashHistory,
    GiveUp,
    InvalidRestartPolicyError,
    Restart,
    RestartPolicy,
    after_crash,
    describe_exit,
)


def _crash_every(
    policy: RestartPolicy, times: list[float], uptime: float
) -> list[Restart | GiveUp]:
    history = CrashHistory()
    decisions: list[Restart | GiveUp] = []
    for now in times:
        decision = after_crash(policy, history, now=now, uptime=uptime)
        history = decision.history
        decisions.append(decision)
    return decisions


def test_the_delay_doubles_from_one_second_up_to_thirty() -> None:
    policy = RestartPolicy(max_crashes=100)
    decisions = _crash_every(policy, [float(t) for t in range(7)], uptime=0.5)
    assert [d.delay for d in decisions if isinstance(d, Restart)] == [
        1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0
    ]  # fmt: skip


def test_a_service_that_stayed_up_long_enough_starts_again_from_the_first_delay() -> None:
    policy = RestartPolicy(max_crashes=100)
    history = CrashHistory()
    delays = []
    for now, uptime in [(0.0, 1.0), (2.0, 1.0), (5.0, 1.0), (100.0, 60.0), (102.0, 1.0)]:
        decision = after_crash(policy, history, now=now, uptime=uptime)
        assert isinstance(decision, Restart)
        history = decision.history
        delays.append(decision.delay)
    assert delays == [1.0, 2.0, 4.0, 1.0, 2.0]


def test_the_fifth_crash_within_five_minutes_gives_up() -> None:
    decisions = _crash_every(RestartPolicy(), [0.0, 10.0, 20.0, 30.0, 40.0], uptime=300.0)
    assert [type(d) for d in decisions] == [Restart] * 4 + [GiveUp]
    last = decisions[-1]
    assert isinstance(last, GiveUp)
    assert (last.crashes, last.window) == (5, 300.0)


def test_crashes_older_than_the_window_are_forgotten() -> None:
    times = [0.0, 100.0, 200.0, 299.0, 301.0, 400.0]
    decisions = _crash_every(RestartPolicy(), times, uptime=90.0)
    assert all(isinstance(d, Restart) for d in decisions)
    assert decisions[-1].history.times == (200.0, 299.0, 301.0, 400.0)


@pytest.mark.parametrize(
    "fields",
    [
        {"initial_delay": -1.0},
        {"initial_delay": 5.0, "max_delay": 1.0},
        {"max_crashes": 0},
        {"crash_window": 0.0},
        {"reset_after": -1.0},
    ],
)
def test_impossible_settings_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(InvalidRestartPolicyError):
        RestartPolicy(**fields)  # type: ignore[arg-type]


def test_exits_are_described_by_code_or_signal() -> None:
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"
