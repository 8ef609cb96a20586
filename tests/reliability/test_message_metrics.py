"""What ``/metrics`` counts of a consumer's messages and of the bus's publishes, on real NATS
JetStream: each message once, by how it ended (``relay_messages_processed_total``: acked,
nacked, rejected), its duration observed, and each publish as stored or as a duplicate the
server dropped (``relay_events_published_total``). The consumers and the bus count these
themselves (:mod:`relay_shared.metrics`), with one worker or several at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.bus import EventBus
from relay_shared.bus.delivery import DeliverySettings
from relay_shared.bus.publishing import MSG_ID_HEADER
from relay_shared.bus.streams import StreamSettings, ensure_streams
from relay_shared.errors import PermanentError, TransientError
from relay_shared.events import OrderShipped
from relay_shared.metrics import ServiceMetrics
from relay_shared.runtime import new_broker
from relay_shared.settings import CommonSettings
from tests.support.channel_events import order_shipped
from tests.support.jetstream import collect, nats_client
from tests.support.order_consumers import order_consumer, publish_orders
from tests.support.polling import eventually
from tests.support.registry import sample_value

STREAMS = StreamSettings(name="REL_MESSAGE_METRICS")
SHIPPED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SUBJECT = subjects.ORDER_SHIPPED
ITEMS = [("SKU-1", 1)]


@dataclass
class Outcomes:
    """The handler's script: which orders fail, and how; what it saw."""

    transient_once: set[str] = field(default_factory=set)
    permanent: set[str] = field(default_factory=set)
    seen: list[str] = field(default_factory=list)

    async def handle(self, event: OrderShipped) -> None:
        self.seen.append(event.order_id)
        if event.order_id in self.transient_once:
            self.transient_once.discard(event.order_id)
            raise TransientError("the database is away for a moment")
        if event.order_id in self.permanent:
            raise PermanentError("this order names no channel we know", code="bad_order")


@pytest.fixture(params=[1, 4], ids=["one-worker", "four-workers"])
async def consumer(
    request: pytest.FixtureRequest, isolated_bus: StackEndpoints, unique_id: str
) -> AsyncIterator[tuple[ServiceMetrics, Outcomes, str]]:
    async with nats_client(isolated_bus.nats_url) as client:
        await ensure_streams(client.jetstream(), STREAMS)
        await client.jetstream().purge_stream(STREAMS.name)  # the other case's messages
    service = f"metrics{request.param}{unique_id[:8]}"
    metrics = ServiceMetrics(service)
    outcomes = Outcomes()
    policy = DeliverySettings(max_deliver=3, retry_base_delay_s=0.1, retry_max_delay_s=0.1)
    consumer = order_consumer(
        isolated_bus.nats_url,
        service,
        STREAMS,
        policy.delivery_policy(),
        outcomes.handle,
        workers=request.param,
        metrics=metrics,
    )
    await consumer.start()
    try:
        yield metrics, outcomes, service
    finally:
        await consumer.stop()


async def test_each_message_is_counted_once_by_how_it_ended(
    isolated_bus: StackEndpoints,
    consumer: tuple[ServiceMetrics, Outcomes, str],
    unique_id: str,
) -> None:
    metrics, outcomes, service = consumer
    tenant = f"t_{unique_id}"
    orders = {name: f"{name}-{unique_id}" for name in ("fine", "flaky", "refused")}
    outcomes.transient_once.add(orders["flaky"])
    outcomes.permanent.add(orders["refused"])
    async with nats_client(isolated_bus.nats_url) as client:
        js = client.jetstream()
        await publish_orders(js, STREAMS, tenant, list(orders.values()))
        await js.publish(  # not an OrderShipped at all
            SUBJECT, b'{"tenant_id": 1}', stream=STREAMS.name, headers={MSG_ID_HEADER: unique_id}
        )
        await collect(
            client,
            subjects.dead_letter_stream(STREAMS.name),
            subjects.dead_letter_subject(SUBJECT),
            until=lambda record: record["service"] == service and record["event_id"] == unique_id,
        )

    def ended() -> dict[str, float] | None:
        by_status = {
            status: sample_value(
                metrics,
                "relay_messages_processed_total",
                service=service,
                subject=SUBJECT,
                status=status,
            )
            for status in ("acked", "nacked", "rejected", "error")
        }
        return by_status if sum(by_status.values()) == 5 else None

    assert await eventually(ended, timeout=30, what="five messages counted") == {
        "acked": 2,  # fine, and flaky's second delivery
        "nacked": 1,  # flaky's first
        "rejected": 2,  # refused (permanent), and the body that is no order
        "error": 0,
    }
    assert sorted(outcomes.seen) == sorted([*orders.values(), orders["flaky"]])
    duration = "relay_message_processing_seconds_count"
    assert sample_value(metrics, duration, service=service, subject=SUBJECT) == 5
    dead = "relay_messages_dead_lettered_total"
    assert sample_value(metrics, dead, subject=SUBJECT, code="bad_order") == 1
    assert sample_value(metrics, dead, subject=SUBJECT, code="invalid_event") == 1


async def test_a_publish_is_counted_stored_and_its_replay_a_duplicate(
    isolated_bus: StackEndpoints, unique_id: str
) -> None:
    async with nats_client(isolated_bus.nats_url) as client:
        await ensure_streams(client.jetstream(), STREAMS)
    service = f"publisher{unique_id[:8]}"
    settings = CommonSettings(nats_url=isolated_bus.nats_url, service_name=service)
    metrics = ServiceMetrics(service)
    broker = new_broker(settings)
    bus = EventBus(broker, STREAMS.name, [OrderShipped], service=service, metrics=metrics)
    event = order_shipped(
        f"t_{unique_id}", f"{SUBJECT}:{unique_id}", f"O-{unique_id}", "amazon", ITEMS, SHIPPED
    )
    await broker.connect()
    try:
        stored = [await bus.publish(event), await bus.publish(event)]
    finally:
        await broker.stop()

    assert stored == [True, False]
    assert {
        status: sample_value(
            metrics, "relay_events_published_total", service=service, subject=SUBJECT, status=status
        )
        for status in ("stored", "duplicate")
    } == {"stored": 1, "duplicate": 1}
