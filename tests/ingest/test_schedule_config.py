"""The tenant config's ``schedule`` section and each vendor's ``freshness_max_age_h``:
validated with every problem by path (what ``PUT …/config`` answers in its 422), cron times
in the tenant's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from relay_shared.tenant_config import ConfigError, next_run_after, parse_tenant_config
from tests.support.pipeline_runs import tenant_config


def _config(**extra: Any) -> dict[str, Any]:
    config = tenant_config("sched")
    config.update(extra)
    return config


def _problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_tenant_config(config)
    return [str(problem) for problem in caught.value.problems]


def test_a_schedule_is_parsed_with_its_defaults() -> None:
    config = parse_tenant_config(
        _config(schedule={"runs": " 0  */4 * * *", "wait_for_vendors": ["v2"]})
    )

    assert config.schedule is not None
    assert (config.schedule.runs, config.schedule.wait_for_vendors) == ("0 */4 * * *", ["v2"])
    assert config.schedule.max_wait_min == 60


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        (
            "* * * * * *",
            "must be a cron expression of 5 fields (minute hour day month weekday), got 6",
        ),
        ("*/1 * * * *", "runs more often than every 5 minutes"),
        ("0,1 * * * *", "runs more often than every 5 minutes"),
        (
            "every hour",
            "must be a cron expression of 5 fields (minute hour day month weekday), got 2",
        ),
        ("61 * * * *", "'61 * * * *' is not a valid cron expression"),
        ("0 0 30 2 *", "'0 0 30 2 *' names no time that ever comes"),
    ],
)
def test_a_cron_that_is_none_or_fires_too_often_is_refused_with_its_path(
    runs: str, message: str
) -> None:
    assert _problems(_config(schedule={"runs": runs})) == [f"schedule.runs: {message}"]


def test_every_schedule_and_freshness_problem_is_listed_by_path() -> None:
    config = _config(
        schedule={
            "runs": "0 6 * * *",
            "wait_for_vendors": ["v2", "nope"],
            "max_wait_min": -1,
            "when": 1,
        }
    )
    config["vendors"][0]["freshness_max_age_h"] = 0

    assert _problems(config) == [
        "vendors[0].freshness_max_age_h: Input should be greater than 0",
        "schedule.max_wait_min: Input should be greater than or equal to 0",
        "schedule.when: unknown key",
    ]
    config["schedule"] = {"runs": "0 6 * * *", "wait_for_vendors": ["v2", "nope"]}
    config["vendors"][0]["freshness_max_age_h"] = 26.5
    assert _problems(config) == ["schedule.wait_for_vendors[1]: unknown vendor 'nope'"]
    config["schedule"]["wait_for_vendors"] = ["v2"]
    assert parse_tenant_config(config).vendors[0].freshness_max_age_h == Decimal("26.5")


def test_cron_times_are_the_tenants_local_times_across_daylight_saving() -> None:
    before_change = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 07:00 in Los Angeles (PST)

    first = next_run_after("0 6 * * *", "America/Los_Angeles", before_change)
    second = next_run_after("0 6 * * *", "America/Los_Angeles", first)

    assert first.astimezone(UTC) == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # 06:00 PST
    assert second.astimezone(UTC) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # PDT
