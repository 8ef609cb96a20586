"""Per-stage timings and attempt counts of a run, from the pipeline events the gateway saw
(pure).

Every tracking event of a run is recorded once per event id with the time the gateway first
saw it and how many times it was seen. A stage's *attempts* is the most times any one of its
events was seen: 1 normally; more when the stage re-emitted its result (a handler replayed
after a crash, beyond the stream's duplicate window) or the gateway's own delivery was
retried after it had recorded the event. The timings are the gaps between:

- ``queued``: requested → ``run.requested`` published (waiting for a slot of the tenant);
- ``ingest``: published → the first ``feed.received``;
- ``normalize``: the first ``feed.received`` → the last ``rows.normalized``;
- ``merge``: the last ``rows.normalized`` → ``offers.merged``.

A stage not reached yet has no timing (None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from relay_shared import subjects

#: The stage each tracking subject reports (``run.failed`` reports its own stage).
STAGE_OF: Final = {
    subjects.FEED_RECEIVED: "ingest",
    subjects.ROWS_NORMALIZED: "normalize",
    subjects.OFFERS_MERGED: "merge",
}


@dataclass(frozen=True)
class Sighting:
    event_id: str
    stage: str
    seen: int
    first_seen_at: datetime


@dataclass(frozen=True)
class StageTimings:
    queued_ms: int | None
    ingest_ms: int | None
    normalize_ms: int | None
    merge_ms: int | None


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(round((end - start).total_seconds() * 1000), 0)


def _first(sightings: Sequence[Sighting], stage: str) -> datetime | None:
    return min((s.first_seen_at for s in sightings if s.stage == stage), default=None)


def _last(sightings: Sequence[Sighting], stage: str) -> datetime | None:
    return max((s.first_seen_at for s in sightings if s.stage == stage), default=None)


def stage_timings(
    requested_at: datetime, published_at: datetime | None, sightings: Sequence[Sighting]
) -> StageTimings:
    ingested = _first(sightings, "ingest")
    normalized = _last(sightings, "normalize")
    return StageTimings(
        queued_ms=_ms(requested_at, published_at),
        ingest_ms=_ms(published_at, ingested),
        normalize_ms=_ms(ingested, normalized),
        merge_ms=_ms(normalized, _first(sightings, "merge")),
    )


def attempts(sightings: Sequence[Sighting]) -> dict[str, int]:
    """Per stage seen: the most times one of its events was seen."""
    counts: dict[str, int] = {}
    for sighting in sightings:
        counts[sighting.stage] = max(counts.get(sighting.stage, 0), sighting.seen)
    return counts
