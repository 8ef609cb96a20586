"""Prometheus metrics of one service, in a registry of its own (no global collectors).

- ``relay_messages_processed_total{service,subject,status}``: how each message a consumer took
  ended: ``acked``, ``nacked`` (a failed attempt that will be retried), ``rejected``
  (dead-lettered), ``error`` (the consumer itself failed: the message waits for its
  redelivery); counted by :class:`~relay_shared.bus.consuming.EventConsumer`;
- ``relay_message_processing_seconds{service,subject}``: how long a consumer took over one
  message, from its body's decoding to its ack (whatever the outcome);
- ``relay_events_published_total{service,subject,status}``: events published, ``stored`` by
  JetStream or dropped by it as a ``duplicate`` (a replay re-publishing with the same
  ``Nats-Msg-Id``); counted by :class:`~relay_shared.bus.publishing.EventBus`;
- ``relay_messages_dead_lettered_total{service,subject,code}``: messages given up, by reason;
- ``relay_run_stage_duration_seconds{service,subject}``: how long each stage worked on an event
  of a run (only events that belong to a run);
- ``relay_consumer_pending_messages{stream,durable}`` / ``relay_consumer_ack_pending_messages``:
  each durable consumer's backlog, read from JetStream when scraped;
- the gateway adds its HTTP (webhook latency and outcomes) and runs-by-status metrics
  (:class:`GatewayMetrics`).

The consumers and the bus count for themselves rather than through FastStream's Prometheus
middleware: wrapped around every message and publish, the middleware cost a consumer about
55 µs of CPU per message (414-432 against 359-377 µs, ``tests/bench/bench_consumer.py``,
alternated), and its counts are the same ones.

The text is served on ``/metrics`` (:mod:`relay_shared.health` for workers, a route of the
gateway's own application).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

import asyncpg
import structlog
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Seconds: from a few milliseconds (a webhook) to minutes (a million-row feed).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

Refresh = Callable[[], Awaitable[None]]
#: What a refresh may fail with (a server away): the scrape goes on with the last values.
REFRESH_FAILURES = (OSError, TimeoutError, NatsError, asyncpg.PostgresError, asyncpg.InterfaceError)
log = structlog.get_logger(__name__)
#: How a consumer finished with a message (``relay_messages_processed_total``'s ``status``).
Outcome = Literal["acked", "nacked", "rejected", "error"]
OUTCOMES: tuple[Outcome, ...] = ("acked", "nacked", "rejected", "error")


class ServiceMetrics:
    """The registry and the collectors every service has."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.messages_processed = Counter(
            "relay_messages_processed",
            "Messages a consumer finished with: acked, nacked (to be retried), rejected "
            "(dead-lettered) or error (the consumer failed; redelivered)",
            ["service", "subject", "status"],
            registry=self.registry,
        )
        self.message_duration = Histogram(
            "relay_message_processing_seconds",
            "How long a consumer took over one message, decoding to ack, whatever its end",
            ["service", "subject"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.published = Counter(
            "relay_events_published",
            "Events published: stored by JetStream, or dropped by it as a duplicate",
            ["service", "subject", "status"],
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "relay_messages_dead_lettered",
            "Messages given up and written to the dead-letter stream, by reason",
            ["service", "subject", "code"],
            registry=self.registry,
        )
        self.stage_duration = Histogram(
            "relay_run_stage_duration_seconds",
            "How long a stage worked on one event of a run",
            ["service", "subject"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.consumer_pending = Gauge(
            "relay_consumer_pending_messages",
            "Messages of the durable consumer not yet delivered",
            ["stream", "durable"],
            registry=self.registry,
        )
        self.consumer_ack_pending = Gauge(
            "relay_consumer_ack_pending_messages",
            "Messages of the durable consumer delivered and not yet acknowledged",
            ["stream", "durable"],
            registry=self.registry,
        )
        self._refreshers: list[Refresh] = []

    def consumer_counts(self, subject: str) -> ConsumerCounts:
        """The message metrics of this service's consumer of ``subject``."""
        return ConsumerCounts(self, subject)

    def on_scrape(self, refresh: Refresh) -> None:
        """Run ``refresh`` before each scrape (gauges read from a server)."""
        self._refreshers.append(refresh)

    def watch_consumers(
        self, js: Callable[[], JetStreamContext], stream: str, durables: Sequence[str]
    ) -> None:
        """Read each durable's pending and ack-pending counts from JetStream at each scrape."""

        async def refresh() -> None:
            context = js()
            for durable in durables:
                info = await context.consumer_info(stream, durable)
                self.consumer_pending.labels(stream, durable).set(info.num_pending or 0)
                self.consumer_ack_pending.labels(stream, durable).set(info.num_ack_pending or 0)

        self.on_scrape(refresh)

    async def exposition(self) -> bytes:
        """The Prometheus text of every collector, gauges refreshed first (a gauge whose
        server is away keeps its last value)."""
        for refresh in self._refreshers:
            try:
                await refresh()
            except REFRESH_FAILURES as exc:
                log.warning("metrics.refresh_failed", error=repr(exc))
        return generate_latest(self.registry)


class ConsumerCounts:
    """One consumer's message metrics, their labels resolved once (a consumer counts every
    message it takes)."""

    def __init__(self, metrics: ServiceMetrics, subject: str) -> None:
        labels = (metrics.service, subject)
        self._ended = {
            outcome: metrics.messages_processed.labels(*labels, outcome) for outcome in OUTCOMES
        }
        self._duration = metrics.message_duration.labels(*labels)

    def ended(self, outcome: Outcome, seconds: float) -> None:
        self._ended[outcome].inc()
        self._duration.observe(seconds)


class GatewayMetrics(ServiceMetrics):
    """The gateway's own: HTTP requests by route and status (webhook latency and outcomes
    are the ``/v1/webhooks/...`` routes') and runs by status."""

    def __init__(self, service: str = "gateway") -> None:
        super().__init__(service)
        self.http_duration = Histogram(
            "relay_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status",
            ["route", "method", "status"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.runs = Gauge(
            "relay_runs", "Runs by status (read when scraped)", ["status"], registry=self.registry
        )
