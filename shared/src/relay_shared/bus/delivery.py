"""How every consumer of every service redelivers, and the test-only pause before an ack.

:class:`DeliveryPolicy` is the one policy: how long a crashed consumer holds a message
(``ack_wait_s``), how many deliveries a message gets (``max_deliver``) and the nak delays
between them. :class:`DeliverySettings` holds its ``APP_*`` fields; every service's settings
have them (:class:`relay_shared.settings.CommonSettings` includes it), and
:meth:`DeliverySettings.delivery_policy` is what the consumers are registered with.

The retry budget is the time a transient fault may last and still heal: the sum of the nak
delays between ``max_deliver`` deliveries. With the defaults (8 deliveries, 0.5 s doubling,
capped at 30 s) the delays are 0.5 + 1 + 2 + 4 + 8 + 16 + 30 = 61.5 s, plus the time the
attempts themselves take, so an S3 or Postgres outage of up to about a minute heals without
the run failing. The stream's duplicate window (300 s) must stay longer than the budget plus
``ack_wait_s``: a replay that re-publishes an event must fall inside it to be dropped.

``ack_wait_s`` (10 s) only bounds how long a *crashed* consumer holds a message: a live handler
keeps its message with in-progress acks (every third of ``ack_wait_s``), so long feeds are
safe, and a worker SIGKILLed mid-message loses about 10 s before another delivery starts.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import structlog
from pydantic import BaseModel, ConfigDict, Field

log = structlog.get_logger(__name__)

PAUSE_POLL_S = 0.05


@dataclass(frozen=True)
class DeliveryPolicy:
    """Redelivery of one consumer's messages; the defaults are every service's defaults."""

    ack_wait_s: float = 10.0
    max_deliver: int = 8
    retry_base_delay_s: float = 0.5
    retry_max_delay_s: float = 30.0

    def delay_for(self, delivery: int) -> float:
        """Delay before redelivery after the ``delivery``-th attempt failed (1-based)."""
        growing = self.retry_base_delay_s * 2 ** max(delivery - 1, 0)
        return float(min(growing, self.retry_max_delay_s))

    def budget_s(self) -> float:
        """How long a transient fault may last and still heal: the sum of the delays
        between the ``max_deliver`` deliveries (61.5 s with the defaults)."""
        return sum(self.delay_for(delivery) for delivery in range(1, self.max_deliver))

    @property
    def heartbeat_s(self) -> float:
        """How often a handler still at work tells the server so (a third of the ack wait)."""
        return self.ack_wait_s / 3


DEFAULT_DELIVERY = DeliveryPolicy()


class DeliverySettings(BaseModel):
    """``APP_ACK_WAIT_S``, ``APP_MAX_DELIVER``, ``APP_RETRY_BASE_DELAY_S``,
    ``APP_RETRY_MAX_DELAY_S`` (defaults: :data:`DEFAULT_DELIVERY`) and the test-only
    ``APP_TEST_PAUSE_DIR`` (see :class:`TestPause`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ack_wait_s: float = Field(default=DEFAULT_DELIVERY.ack_wait_s, gt=0)
    max_deliver: int = Field(default=DEFAULT_DELIVERY.max_deliver, ge=1)
    retry_base_delay_s: float = Field(default=DEFAULT_DELIVERY.retry_base_delay_s, gt=0)
    retry_max_delay_s: float = Field(default=DEFAULT_DELIVERY.retry_max_delay_s, gt=0)
    test_pause_dir: Path | None = None

    def delivery_policy(self) -> DeliveryPolicy:
        """The policy every consumer of this service is registered with."""
        return DeliveryPolicy(
            ack_wait_s=self.ack_wait_s,
            max_deliver=self.max_deliver,
            retry_base_delay_s=self.retry_base_delay_s,
            retry_max_delay_s=self.retry_max_delay_s,
        )


class TestPause:
    """TEST ONLY: hold a handled message before its ack, so a test can kill the process
    while it holds an unacked message whose work is done (the worst moment for duplicates).

    Inert unless ``APP_TEST_PAUSE_DIR`` is set. Armed per service by a marker file
    ``<dir>/<service>.pause`` (its text, when not empty, must occur in the event id); while
    holding, the consumer writes ``<dir>/<service>.held`` (the event id) and waits until the
    marker is removed. One variable serves every process; a test arms one stage at a time
    without restarting anything.
    """

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path, service: str) -> None:
        self._marker = directory / f"{service}.pause"
        self._held = directory / f"{service}.held"

    @classmethod
    def from_settings(cls, settings: DeliverySettings, service: str) -> TestPause | None:
        directory = settings.test_pause_dir
        return cls(Path(directory), service) if directory is not None else None

    def armed_for(self, event_id: str) -> bool:
        try:
            wanted = self._marker.read_text("utf-8").strip()
        except FileNotFoundError:
            return False
        return wanted in event_id

    async def hold(self, event_id: str, deadline_s: float = 600.0) -> None:
        """Block while the marker exists (bounded, so a forgotten marker cannot hang)."""
        if not self.armed_for(event_id):
            return
        # written whole, then renamed into place: a test that sees the file reads the id
        # (written in place, it could be seen empty: a crash test read '' once)
        writing = self._held.with_name(self._held.name + ".tmp")
        writing.write_text(event_id, "utf-8")
        writing.replace(self._held)
        log.warning("test_pause.holding", event_id=event_id)
        give_up = time.monotonic() + deadline_s
        while time.monotonic() < give_up:
            if not self._marker.exists():
                break
            await asyncio.sleep(PAUSE_POLL_S)
        self._held.unlink(missing_ok=True)
        log.warning("test_pause.released", event_id=event_id)
