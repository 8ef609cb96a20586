"""Registering a durable pull consumer for one subject with the explicit ack discipline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from faststream import AckPolicy
from faststream.nats import NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage

from relay_shared.bus.consuming import EventConsumer, PermanentHook, RetryPolicy
from relay_shared.bus.publishing import subject_of
from relay_shared.bus.streams import StreamSettings, consumer_config
from relay_shared.events import Event
from relay_shared.subjects import durable_name

E = TypeVar("E", bound=Event)


def register_consumer(
    broker: NatsBroker,
    *,
    service: str,
    streams: StreamSettings,
    event_type: type[E],
    handle: Callable[[E], Awaitable[None]],
    on_permanent: PermanentHook[E] | None = None,
) -> None:
    """Subscribe ``handle`` to ``event_type``'s subject through the service's durable pull
    consumer. FastStream's default (reject on any exception) is replaced by
    :class:`EventConsumer`'s policy: acks are manual and chosen per outcome."""
    from faststream.nats import JStream

    subject = subject_of(event_type)
    consumer = EventConsumer(
        service=service,
        event_type=event_type,
        handle=handle,
        broker=broker,
        stream=streams.name,
        retry=RetryPolicy(max_deliver=streams.max_deliver),
        on_permanent=on_permanent,
    )

    async def on_message(msg: NatsMessage) -> None:
        await consumer(msg)

    on_message.__name__ = f"{service}_on_{subject.replace('.', '_')}"
    broker.subscriber(
        subject,
        stream=JStream(streams.name, declare=False),
        durable=durable_name(service, subject),
        config=consumer_config(service, subject, streams),
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        title=f"{subject}:{service}",
        description=f"{service} consumes {event_type.__name__}: {event_type.__doc__ or ''}".strip(),
    )(on_message)
