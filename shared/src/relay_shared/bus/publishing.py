"""Publishing events durably, once.

Each publish waits for the JetStream ack (the event is stored before we go on) and carries
``Nats-Msg-Id = event_id``; a retried publish of the same event inside the stream's duplicate
window is dropped by the server. With the service's metrics, each publish is counted by subject
as ``stored`` or ``duplicate`` (``relay_events_published_total``).
"""

from __future__ import annotations

from collections.abc import Iterable

from faststream.nats import NatsBroker
from faststream.nats.publisher.usecase import LogicPublisher
from prometheus_client import Counter

from relay_shared.events import Event
from relay_shared.metrics import ServiceMetrics

MSG_ID_HEADER = "Nats-Msg-Id"
CORRELATION_HEADER = "X-Correlation-ID"


def subject_of(event_type: type[Event]) -> str:
    default = event_type.model_fields["subject"].default
    if not isinstance(default, str) or not default:
        raise TypeError(f"{event_type.__name__} has no subject")
    return default


class UndeclaredEventError(RuntimeError):
    """A service tried to publish an event type it did not declare in its app factory."""


class EventBus:
    """The publishing port handed to handlers. Only declared event types may be published,
    which keeps the generated AsyncAPI document true."""

    def __init__(
        self,
        broker: NatsBroker,
        stream: str,
        emits: Iterable[type[Event]],
        *,
        service: str = "relay",
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._broker = broker
        self._stream = stream
        self._publishers: dict[str, LogicPublisher] = {}
        #: per subject, the counters of a stored publish and of a dropped duplicate
        self._counted: dict[str, tuple[Counter, Counter]] = {}
        for event_type in emits:
            subject = subject_of(event_type)
            self._publishers[subject] = broker.publisher(
                subject,
                schema=event_type,
                title=f"{subject}:{service}:publish",
                description=(event_type.__doc__ or "").strip() or None,
            )
            if metrics is not None:
                published = metrics.published
                self._counted[subject] = (
                    published.labels(metrics.service, subject, "stored"),
                    published.labels(metrics.service, subject, "duplicate"),
                )

    async def publish(self, event: Event) -> bool:
        """Publish ``event``; True when stored, False when the server dropped a duplicate."""
        publisher = self._publishers.get(event.subject)
        if publisher is None:
            raise UndeclaredEventError(f"{event.subject} is not declared by this service")
        ack = await publisher.publish(
            event.model_dump_json().encode(),
            headers={
                MSG_ID_HEADER: event.event_id,
                CORRELATION_HEADER: event.correlation_id,
                "content-type": "application/json",
            },
            correlation_id=event.correlation_id,
            stream=self._stream,
        )
        counted = self._counted.get(event.subject)
        if counted is not None:
            counted[1 if ack.duplicate else 0].inc()
        return not ack.duplicate
