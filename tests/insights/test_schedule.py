"""The day a daily evaluation is due and the day its new insights count against the cap."""

from __future__ import annotations

from datetime import UTC, date, datetime

from relay_insights.domain.schedule import Schedule, due_day
from relay_insights.evaluation import Evaluation
from relay_shared.channel_config import InsightsConfig


def tokyo(last_day: date | None = None) -> Schedule:
    first_seen = datetime(2027, 10, 1, 0, 0, tzinfo=UTC)
    return Schedule("t-1", 1, "Asia/Tokyo", "06:00", first_seen, last_day, None)


def test_before_the_local_evaluation_time_the_previous_day_is_due() -> None:
    # 16:56 UTC is 01:56 on the 7th in Tokyo, before 06:00: the 6th is the day due.
    assert due_day(tokyo(), datetime(2027, 10, 6, 16, 56, tzinfo=UTC)) == date(2027, 10, 6)
    assert due_day(tokyo(), datetime(2027, 10, 6, 21, 0, tzinfo=UTC)) == date(2027, 10, 7)
    assert due_day(tokyo(date(2027, 10, 6)), datetime(2027, 10, 6, 16, 56, tzinfo=UTC)) is None


def test_a_daily_evaluation_counts_its_cap_in_its_own_day_not_the_local_day_it_runs_in() -> None:
    late = datetime(2027, 10, 6, 16, 56, tzinfo=UTC)
    config = InsightsConfig()
    daily = Evaluation("daily:t-1:2027-10-06", "c", late, config, "Asia/Tokyo", date(2027, 10, 6))
    by_event = Evaluation("feed.received:1", "c", late, config, "Asia/Tokyo")

    assert daily.cap_day == date(2027, 10, 6)
    assert by_event.cap_day == date(2027, 10, 7)
