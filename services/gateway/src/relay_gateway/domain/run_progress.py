"""How a run's status and stage move as pipeline events arrive.

Events may arrive late, twice or out of order: status and stage only move forward, and a
SUCCEEDED or FAILED run never changes again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from relay_shared.run_states import (
    FAILED,
    QUEUED,
    RUNNING,
    STAGES,
    SUCCEEDED,
    TERMINAL,
    RunError,
)

_STATUS_RANK: Final = {QUEUED: 0, RUNNING: 1, SUCCEEDED: 2, FAILED: 2}


@dataclass(frozen=True)
class Progress:
    status: str
    stage: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: RunError | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class Step:
    """What an event says about the run."""

    status: str
    stage: str
    at: datetime
    error: RunError | None = None


def advance(current: Progress, step: Step) -> Progress | None:
    """The run's progress after ``step``, or None when nothing changes (terminal run,
    or a step that would move it backwards)."""
    if current.is_terminal:
        return None
    status = (
        step.status if _STATUS_RANK[step.status] >= _STATUS_RANK[current.status] else current.status
    )
    stage = _later_stage(current.stage, step.stage, terminal=status in TERMINAL)
    started_at = current.started_at
    if started_at is None and status != QUEUED:
        started_at = step.at
    finished_at = step.at if status in TERMINAL else None
    error = step.error if status == FAILED else None
    updated = replace(
        current,
        status=status,
        stage=stage,
        started_at=started_at,
        finished_at=finished_at,
        error=error,
    )
    return None if updated == current else updated


def _later_stage(current: str, proposed: str, *, terminal: bool) -> str:
    """The later of two stages; a failure keeps the stage it failed at."""
    if proposed not in STAGES:
        return current
    if terminal:
        return proposed
    return proposed if STAGES.index(proposed) > STAGES.index(current) else current


def free_slots(active: int, cap: int) -> int:
    """How many more runs of a tenant may start now (runs beyond the cap wait QUEUED)."""
    return max(cap - active, 0)
