"""The time a service's schedules run by.

:class:`SystemClock` is the real time. :class:`OffsetFileClock` is the real time moved by a
number of seconds read from a file (``APP_CLOCK_OFFSET_FILE``) each time it is asked, so a
test or a demo can travel days ahead while the service runs: write ``2678400`` (31 days)
into the file and the next scheduler tick sees that day. It is for tests and demos only:
never set ``APP_CLOCK_OFFSET_FILE`` in production. A missing or empty file is no offset; a
file that does not hold a number is no offset too (logged once per distinct content).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

#: The largest offset accepted (about 100 years), so a typo cannot overflow a datetime.
MAX_OFFSET_S = 100 * 366 * 86_400.0


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetFileClock:
    """The real time plus the offset (seconds, may be negative or fractional) the file holds
    when asked. Test and demo use only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reported: str | None = None

    def offset(self) -> timedelta:
        try:
            text = self.path.read_text("utf-8").strip()
        except FileNotFoundError:
            return timedelta(0)
        if not text:
            return timedelta(0)
        try:
            seconds = float(text)
        except ValueError:
            seconds = float("nan")
        if not abs(seconds) <= MAX_OFFSET_S:  # also refuses nan
            if text != self._reported:
                log.warning("clock.offset_ignored", path=str(self.path), content=text[:40])
                self._reported = text
            return timedelta(0)
        return timedelta(seconds=seconds)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()


def clock_from_setting(offset_file: Path | None) -> Clock:
    """The offset clock when ``offset_file`` is set (tests, demos), else the system clock."""
    if offset_file is None:
        return SystemClock()
    log.warning("clock.offset_enabled", path=str(offset_file), note="test/demo only")
    return OffsetFileClock(offset_file)
