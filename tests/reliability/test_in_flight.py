"""A consumer with several workers (:mod:`relay_shared.bus.in_flight`), on real NATS JetStream:
it handles that many messages at once and never more, each exactly once; stopping it cancels
the messages still being handled, which are not acked and are delivered again to the next
consumer of the same durable."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.bus import register_consumer
from relay_shared.bus.delivery import DeliverySettings
from relay_shared.bus.registration import InvalidConsumerError
from relay_shared.bus.streams import StreamSettings, ensure_streams
from relay_shared.events import OrderShipped
from relay_shared.metrics import ServiceMetrics
from relay_shared.runtime import new_broker
from relay_shared.settings import CommonSettings
from relay_shared.subjects import durable_name
from tests.support.jetstream import nats_client
from tests.support.order_consumers import order_consumer, publish_orders
from tests.support.polling import eventually_async
from tests.support.registry import sample_value

STREAMS = StreamSettings(name="REL_IN_FLIGHT")
SUBJECT = subjects.ORDER_SHIPPED
POLICY = DeliverySettings(ack_wait_s=1.0, max_deliver=5).delivery_policy()


@dataclass
class Gated:
    """A handler that waits at a gate: how many are inside, the most at once, what ended."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    inside: int = 0
    most: int = 0
    entered: asyncio.Condition = field(default_factory=asyncio.Condition)
    done: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    async def handle(self, event: OrderShipped) -> None:
        async with self.entered:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.entered.notify_all()
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(event.order_id)
            raise
        finally:
            self.inside -= 1
        self.done.append(event.order_id)

    async def until_inside(self, count: int) -> None:
        async with asyncio.timeout(30), self.entered:
            await self.entered.wait_for(lambda: self.inside == count)


async def purged_with_orders(nats_url: str, tag: str, count: int) -> list[str]:
    """``count`` orders on a purged stream; their ids."""
    orders = [f"{tag}-{number}" for number in range(count)]
    async with nats_client(nats_url) as client:
        js = client.jetstream()
        await ensure_streams(js, STREAMS)
        await js.purge_stream(STREAMS.name)
        await publish_orders(js, STREAMS, f"t_{tag}", orders)
    return orders


async def delivered_unacked(nats_url: str, service: str, count: int) -> None:
    """Until the durable has ``count`` messages delivered and not acked."""
    async with nats_client(nats_url) as client:
        js = client.jetstream()

        async def reached() -> bool | None:
            info = await js.consumer_info(STREAMS.name, durable_name(service, SUBJECT))
            return True if info.num_ack_pending == count else None

        await eventually_async(reached, timeout=30, what=f"{count} messages delivered")


def counted(metrics: ServiceMetrics, status: str) -> float:
    return sample_value(metrics, "relay_messages_processed_total", status=status)


async def test_three_workers_handle_three_at_once_and_never_more(
    isolated_bus: StackEndpoints, unique_id: str
) -> None:
    service = f"workers{unique_id[:8]}"
    orders = await purged_with_orders(isolated_bus.nats_url, unique_id, 7)
    handler, metrics = Gated(), ServiceMetrics(service)
    consumer = order_consumer(
        isolated_bus.nats_url, service, STREAMS, POLICY, handler.handle, workers=3, metrics=metrics
    )
    in_flight = consumer.in_flight
    await consumer.start()
    try:
        await handler.until_inside(3)
        # the next pull's three are delivered too, and wait for a worker
        await delivered_unacked(isolated_bus.nats_url, service, 6)
        assert (handler.inside, len(in_flight)) == (3, 3)
        handler.gate.set()

        async def all_acked() -> bool | None:
            return True if counted(metrics, "acked") == 7 else None

        await eventually_async(all_acked, timeout=30, what="seven messages acked")
    finally:
        await consumer.stop()
    assert handler.most == 3
    assert sorted(handler.done) == sorted(orders)
    assert (len(in_flight), handler.cancelled) == (0, [])


async def test_stopping_cancels_what_is_in_flight_and_it_is_delivered_again(
    isolated_bus: StackEndpoints, unique_id: str
) -> None:
    service = f"stopping{unique_id[:8]}"
    orders = await purged_with_orders(isolated_bus.nats_url, unique_id, 2)
    first, first_metrics = Gated(), ServiceMetrics(service)
    consumer = order_consumer(
        isolated_bus.nats_url,
        service,
        STREAMS,
        POLICY,
        first.handle,
        workers=4,
        metrics=first_metrics,
    )
    in_flight = consumer.in_flight
    await consumer.start()
    await first.until_inside(2)
    await consumer.stop()

    assert (sorted(first.cancelled), first.done, len(in_flight)) == (sorted(orders), [], 0)
    assert (counted(first_metrics, "error"), counted(first_metrics, "acked")) == (2, 0)

    second, second_metrics = Gated(), ServiceMetrics(service)
    second.gate.set()
    consumer = order_consumer(
        isolated_bus.nats_url,
        service,
        STREAMS,
        POLICY,
        second.handle,
        workers=4,
        metrics=second_metrics,
    )
    await consumer.start()
    try:

        async def both_acked() -> bool | None:
            return True if counted(second_metrics, "acked") == 2 else None

        await eventually_async(both_acked, timeout=30, what="both delivered again and acked")
    finally:
        await consumer.stop()
    assert sorted(second.done) == sorted(orders)


def test_a_consumer_with_workers_needs_the_services_in_flight_set() -> None:
    # without it nothing would cancel its tasks at the service's stop
    broker = new_broker(CommonSettings(nats_url="nats://127.0.0.1:1", service_name="orphan"))

    async def handle(event: OrderShipped) -> None:
        return None

    with pytest.raises(InvalidConsumerError, match="4 workers needs the service's in_flight"):
        register_consumer(
            broker,
            service="orphan",
            streams=STREAMS,
            policy=POLICY,
            event_type=OrderShipped,
            handle=handle,
            max_workers=4,
        )
