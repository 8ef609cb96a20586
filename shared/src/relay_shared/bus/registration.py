"""Registering a durable pull consumer for one subject with the explicit ack discipline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any, TypeVar, cast

import structlog
from faststream import AckPolicy
from faststream.exceptions import SkipMessage
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsMessage

from relay_shared.bus.consuming import EventConsumer, PermanentHook
from relay_shared.bus.delivery import DeliveryPolicy, TestPause
from relay_shared.bus.in_flight import InFlight, Workers
from relay_shared.bus.publishing import subject_of
from relay_shared.bus.streams import StreamSettings, consumer_config
from relay_shared.events import Event
from relay_shared.metrics import ServiceMetrics
from relay_shared.subjects import durable_name
from relay_shared.tracing import child_span

E = TypeVar("E", bound=Event)
log = structlog.get_logger(__name__)

#: Messages one pull fetches at most for a consumer with several workers (never more than its
#: workers): each pull is a round trip, and at 32 a pull insights' 256 workers sat mostly idle
#: under 400 orders/s (``tests/bench/bench_webhook.py``). Those waiting for a free worker are
#: kept with in-progress acks meanwhile (:mod:`relay_shared.bus.in_flight`).
MAX_FETCH = 256


def warn_if_replays_outlive_duplicates(policy: DeliveryPolicy, streams: StreamSettings) -> None:
    """Warn when a replay could fall outside the duplicate window (see
    :mod:`relay_shared.bus.delivery`): its re-published events would then not be dropped."""
    if policy.budget_s() + policy.ack_wait_s >= streams.duplicate_window_s:
        log.warning(
            "bus.retry_budget_exceeds_duplicate_window",
            budget_s=policy.budget_s(),
            ack_wait_s=policy.ack_wait_s,
            duplicate_window_s=streams.duplicate_window_s,
        )


async def _the_message(message: NatsMessage) -> NatsMessage:
    """The "decoder" of every consumer: FastStream hands the handler the message itself
    (:class:`EventConsumer` decodes and validates its body with pydantic; FastStream's own
    JSON decoding of it would be thrown away)."""
    return message


class InvalidConsumerError(ValueError):
    """A consumer was registered with impossible options (a wiring bug)."""


def register_consumer(
    broker: NatsBroker,
    *,
    service: str,
    streams: StreamSettings,
    policy: DeliveryPolicy,
    event_type: type[E],
    handle: Callable[[E], Awaitable[None]],
    on_permanent: PermanentHook[E] | None = None,
    test_pause: TestPause | None = None,
    max_workers: int = 1,
    metrics: ServiceMetrics | None = None,
    in_flight: InFlight | None = None,
) -> None:
    """Subscribe ``handle`` to ``event_type``'s subject through the service's durable pull
    consumer, which redelivers by ``policy`` (the service's one delivery policy, from its
    settings: :meth:`~relay_shared.bus.delivery.DeliverySettings.delivery_policy`) on the
    stream ``streams``. FastStream's default (reject on any exception) is replaced by
    :class:`EventConsumer`'s policy: acks are manual and chosen per outcome. ``test_pause``
    is the test-only hold before the ack (None in production). With ``max_workers`` > 1 up
    to that many messages are handled at once (each still acked on its own outcome), the
    consumer lets at least that many wait for their ack, and each pull fetches up to
    :data:`MAX_FETCH` of them (one fetch per message cost a round trip to the server per
    message; with one worker a fetched message would wait unheld, so it fetches one). Those
    messages are handled in tasks held by ``in_flight``, required then: the service's, which
    :func:`~relay_shared.runtime.stop_consuming` stops (:mod:`relay_shared.bus.in_flight`).
    ``metrics`` (when collected) count messages by outcome and dead letters, and time the
    stages of runs."""
    subject = subject_of(event_type)
    consumer = EventConsumer(
        service=service,
        event_type=event_type,
        handle=handle,
        broker=broker,
        stream=streams.name,
        policy=policy,
        on_permanent=on_permanent,
        test_pause=test_pause,
        metrics=metrics,
    )

    if max_workers < 1:
        raise InvalidConsumerError(f"max_workers must be at least 1, not {max_workers}")
    if max_workers == 1:
        on_message = _one_at_a_time(consumer)
    elif in_flight is None:  # its tasks would outlive the service's stop, unacked or half done
        raise InvalidConsumerError(
            f"a consumer with {max_workers} workers needs the service's in_flight set"
        )
    else:
        on_message = _handed_to_workers(consumer, Workers(max_workers), in_flight, subject)
    on_message.__name__ = f"{service}_on_{subject.replace('.', '_')}"
    warn_if_replays_outlive_duplicates(policy, streams)
    config = consumer_config(service, subject, policy)
    if (config.max_ack_pending or 0) < max_workers:
        config = replace(config, max_ack_pending=max_workers)
    broker.subscriber(
        subject,
        stream=JStream(streams.name, declare=False),
        durable=durable_name(service, subject),
        config=config,
        pull_sub=PullSub(batch_size=min(max_workers, MAX_FETCH), timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        decoder=_the_message,
        title=f"{subject}:{service}",
        description=f"{service} consumes {event_type.__name__}: {event_type.__doc__ or ''}".strip(),
    )(on_message)


# A handler's ``msg`` is what ``_the_message`` decoded, the message itself, passed as is:
# the broker does not apply FastDepends (``apply_types=False``,
# :func:`relay_shared.runtime.new_broker`), which solved a model per message for a handler that
# needs nothing injected. Typed ``object`` for the AsyncAPI generator, which makes a pydantic
# model of a handler's parameters (the document's payloads are the events' own schemas:
# ``relay_cli.asyncapi_doc``).
Handler = Callable[[object], Coroutine[Any, Any, None]]


def _one_at_a_time(consumer: EventConsumer[E]) -> Handler:
    """The subscriber's handler of a consumer with one worker: each message to its end."""

    async def on_message(msg: object) -> None:
        await consumer(cast("NatsMessage", msg))

    return on_message


def _handed_to_workers(
    consumer: EventConsumer[E], workers: Workers, in_flight: InFlight, subject: str
) -> Handler:
    """The subscriber's handler of a consumer with several workers: once a worker is free,
    it takes the message (decodes it, its ids on the ``process`` span) and starts its task,
    then returns for the next one (:mod:`relay_shared.bus.in_flight`)."""
    handle_name = f"{subject} handle"

    async def on_message(msg: object) -> None:
        message = cast("NatsMessage", msg)
        # a message that waits for a worker is kept too: a round of slow handlers (a big feed)
        # can outlast ack_wait, and the server would deliver it again meanwhile
        waiting = None if workers.free else consumer.keep(message)
        try:
            await workers.take()
        except asyncio.CancelledError as stopping:
            # The consumer stops while the message waits for a worker: it is left unacked
            # (delivered again). FastStream's pull ends this message's task group with the
            # cancellation and would log it at ERROR; SkipMessage is logged at its level.
            raise SkipMessage from stopping
        finally:
            if waiting is not None:
                waiting.stop()
        try:
            taken = consumer.take(message)
            in_flight.start(consumer.finish(message, taken), child_span(handle_name), workers)
        except BaseException:  # any failure, cancellation included: the worker back, re-raise
            workers.release()
            raise

    return on_message
