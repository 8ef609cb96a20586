"""The ack discipline, chosen on purpose for every message.

- success → ack;
- a transient failure → nak with a growing delay, until ``max_deliver`` is reached;
- a permanent failure (bad data or config) → the service's ``on_permanent`` hook records it
  (e.g. publishes ``run.failed``), the message is dead-lettered with its reason and
  terminated: it is never retried;
- a message that exhausts ``max_deliver`` (transient or unexpected failures) is dead-lettered
  and terminated, and ``on_permanent`` is told so the run does not hang.

Unexpected exceptions (bugs) are retried like transient ones: a fixed deployment can then
finish the work, and after the budget the message waits in the dead-letter stream.

The ack comes last, after the handler has saved its state and published its events
(publish-then-ack). A crash before the ack redelivers the message; handlers are idempotent
and re-publish with the same ``Nats-Msg-Id``, which the server drops. While a handler runs, the
message is kept with in-progress acks, so ``ack_wait`` only bounds how long a *dead* consumer
holds it. A failure hook that cannot run (its dependency is down) naks while deliveries
remain; on the last delivery the message is dead-lettered anyway, naming the hook's failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import structlog
from faststream.nats import NatsBroker
from faststream.nats.message import NatsMessage
from nats.errors import Error as NatsError
from pydantic import ValidationError

from relay_shared import subjects
from relay_shared.bus.dead_letters import DeadLetterRecord
from relay_shared.bus.delivery import DeliveryPolicy, TestPause
from relay_shared.bus.failures import DEPENDENCY_ERRORS, is_transient
from relay_shared.bus.publishing import MSG_ID_HEADER, subject_of
from relay_shared.errors import InvalidEventError, PermanentError, RelayError
from relay_shared.events import Event
from relay_shared.metrics import Outcome, ServiceMetrics
from relay_shared.tracing import annotate_span

E = TypeVar("E", bound=Event)
log = structlog.get_logger(__name__)


PermanentHook = Callable[[E, RelayError], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Taken(Generic[E]):
    """A message taken by a consumer: when, and its event (or why its body is none)."""

    started: float
    event: E | InvalidEventError


class EventConsumer(Generic[E]):
    """Decodes one subject's events and runs its handler under the ack discipline."""

    def __init__(
        self,
        *,
        service: str,
        event_type: type[E],
        handle: Callable[[E], Awaitable[None]],
        broker: NatsBroker,
        stream: str,
        policy: DeliveryPolicy,
        on_permanent: PermanentHook[E] | None = None,
        test_pause: TestPause | None = None,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._service = service
        self._metrics = metrics
        self._event_type = event_type
        self._handle = handle
        self._broker = broker
        self._dlq_stream = subjects.dead_letter_stream(stream)
        self._policy = policy
        self._on_permanent = on_permanent
        self._heartbeat_s = policy.heartbeat_s
        self._test_pause = test_pause
        self._counts = None if metrics is None else metrics.consumer_counts(subject_of(event_type))

    async def __call__(self, msg: NatsMessage) -> None:
        """Take one message to its end: :meth:`take`, then :meth:`finish`."""
        await self.finish(msg, self.take(msg))

    def take(self, msg: NatsMessage) -> Taken[E]:
        """The message's event decoded (or why it cannot be), its tenant, run and correlation
        ids set on the current span (the consumer's ``process`` span): the synchronous first
        half of consuming, done before the message is handed to a worker."""
        started = time.perf_counter()
        try:
            event = self._event_type.model_validate_json(msg.body)
        except ValidationError as exc:
            return Taken(started, InvalidEventError(_validation_summary(exc)))
        annotate_span(
            {
                "tenant_id": event.tenant_id,
                "run_id": _run_id(event),
                "correlation_id": event.correlation_id,
                "event_id": event.event_id,
            }
        )
        return Taken(started, event)

    def keep(self, msg: NatsMessage) -> Heartbeat:
        """In-progress acks for ``msg`` until stopped (while it waits for a worker)."""
        return Heartbeat(msg, self._heartbeat_s)

    async def finish(self, msg: NatsMessage, taken: Taken[E]) -> None:
        """Handle the message taken and ack, nak or dead-letter it (counted by outcome,
        ``error`` when the consumer itself fails: the message is then redelivered after
        ``ack_wait``)."""
        outcome: Outcome = "error"
        try:
            outcome = await self._consume(msg, taken)
        finally:
            if self._counts is not None:
                self._counts.ended(outcome, time.perf_counter() - taken.started)

    async def _consume(self, msg: NatsMessage, taken: Taken[E]) -> Outcome:
        delivery = _delivery_count(msg)
        event = taken.event
        if isinstance(event, InvalidEventError):
            await self._dead_letter(msg, event, delivery)
            await msg.reject()
            return "rejected"
        run_id = _run_id(event)
        with structlog.contextvars.bound_contextvars(
            correlation_id=event.correlation_id,
            event_id=event.event_id,
            tenant_id=event.tenant_id,
            subject=event.subject,
            delivery=delivery,
            **({"run_id": run_id} if run_id is not None else {}),
        ):
            return await self._process(msg, event, delivery, run_id)

    async def _process(
        self, msg: NatsMessage, event: E, delivery: int, run_id: str | None
    ) -> Outcome:
        started = time.perf_counter()
        try:
            await self._in_progress(msg, self._handle_then_hold(event))
        except PermanentError as exc:
            log.warning("event.permanent_failure", code=exc.code, error=exc.message)
            return await self._give_up(msg, event, exc, delivery)
        except Exception as exc:  # noqa: BLE001 - classified below, never swallowed
            return await self._retry_or_give_up(msg, event, exc, delivery)
        if run_id is not None and self._metrics is not None:
            self._metrics.stage_duration.labels(self._service, event.subject).observe(
                time.perf_counter() - started
            )
        await msg.ack()
        log.info("event.handled")
        return "acked"

    async def _handle_then_hold(self, event: E) -> None:
        await self._handle(event)
        if self._test_pause is not None:
            await self._test_pause.hold(event.event_id)

    async def _in_progress(self, msg: NatsMessage, work: Awaitable[None]) -> None:
        """Await ``work``, telling the server every ``heartbeat_s`` that the message is still
        being worked on (so a slow handler is not redelivered to another replica)."""
        heartbeat = Heartbeat(msg, self._heartbeat_s)
        try:
            await work
        finally:
            heartbeat.stop()

    async def _retry_or_give_up(
        self, msg: NatsMessage, event: E, exc: Exception, delivery: int
    ) -> Outcome:
        transient = is_transient(exc)
        log.warning(
            "event.failed",
            transient=transient,
            error=repr(exc),
            exc_info=not transient,
        )
        if delivery < self._policy.max_deliver:
            await msg.nack(delay=self._policy.delay_for(delivery))
            return "nacked"
        reason = RelayError(
            f"gave up after {delivery} deliveries: {exc!r}", code="deliveries_exhausted"
        )
        return await self._give_up(msg, event, reason, delivery)

    async def _give_up(self, msg: NatsMessage, event: E, exc: RelayError, delivery: int) -> Outcome:
        if self._on_permanent is not None:
            try:
                await self._on_permanent(event, exc)
            except DEPENDENCY_ERRORS as hook_exc:
                if not is_transient(hook_exc):
                    raise
                log.warning("event.failure_hook_failed", error=repr(hook_exc))
                if delivery < self._policy.max_deliver:
                    await msg.nack(delay=self._policy.delay_for(delivery))
                    return "nacked"
                exc = RelayError(
                    f"{exc.message} (the failure could not be reported: {hook_exc!r})",
                    code=exc.code,
                )
        await self._dead_letter(msg, exc, delivery)
        await msg.reject()
        return "rejected"

    async def _dead_letter(self, msg: NatsMessage, exc: RelayError, delivery: int) -> None:
        original_subject = msg.raw_message.subject
        original_id = (msg.headers or {}).get(MSG_ID_HEADER) or msg.message_id
        sequence = msg.raw_message.metadata.sequence.stream
        record = DeadLetterRecord(
            service=self._service,
            subject=original_subject,
            event_id=original_id,
            code=exc.code,
            reason=exc.message,
            deliveries=delivery,
            failed_at=datetime.now(UTC),
            stream_sequence=sequence,
            payload=msg.body.decode("utf-8", errors="replace"),
        )
        await self._broker.publish(
            record.to_json_bytes(),
            subject=subjects.dead_letter_subject(original_subject),
            # Per stored message: a redelivered copy is dropped, a replayed one is not.
            headers={MSG_ID_HEADER: f"dlq:{self._service}:{sequence}"},
            stream=self._dlq_stream,
        )
        if self._metrics is not None:
            self._metrics.dead_lettered.labels(self._service, original_subject, exc.code).inc()
        log.error("event.dead_lettered", code=exc.code, reason=exc.message)


class Heartbeat:
    """Tells the server every ``every`` seconds, until stopped, that ``msg`` is in progress:
    a timer on the loop, and a task only while a beat is sent (a task per message to watch the
    handler cost every message more than its beats)."""

    def __init__(self, msg: NatsMessage, every: float) -> None:
        self._msg = msg
        self._every = every
        self._loop = asyncio.get_running_loop()
        self._sending: asyncio.Task[None] | None = None
        self._timer = self._loop.call_later(every, self._beat)

    def _beat(self) -> None:
        if self._sending is None or self._sending.done():
            self._sending = self._loop.create_task(self._send())
        self._timer = self._loop.call_later(self._every, self._beat)

    async def _send(self) -> None:
        try:
            await self._msg.in_progress()
        except NatsError as exc:  # the bus is away; the handler may still finish
            log.warning("event.heartbeat_failed", error=repr(exc))

    def stop(self) -> None:
        self._timer.cancel()
        if self._sending is not None and not self._sending.done():
            self._sending.cancel()


def _run_id(event: Event) -> str | None:
    """The run an event belongs to (its ``run_id``; None for a runless event)."""
    run_id = getattr(event, "run_id", None)
    return run_id if isinstance(run_id, str) and run_id else None


def _delivery_count(msg: NatsMessage) -> int:
    metadata = msg.raw_message.metadata
    return int(metadata.num_delivered or 1)


def _validation_summary(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<body>'}: {err['msg']}"
        for err in exc.errors()[:10]
    ]
    return "; ".join(parts)
