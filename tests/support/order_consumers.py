"""A consumer of ``order.shipped`` built as a service builds its own
(:func:`relay_shared.bus.register_consumer`), and orders published to it, for the bus's tests
on real NATS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from relay_shared.bus import register_consumer
from relay_shared.bus.delivery import DeliveryPolicy
from relay_shared.bus.in_flight import InFlight
from relay_shared.bus.publishing import MSG_ID_HEADER
from relay_shared.bus.streams import StreamSettings
from relay_shared.events import OrderShipped
from relay_shared.metrics import ServiceMetrics
from relay_shared.runtime import new_broker, stop_consuming
from relay_shared.settings import CommonSettings
from relay_shared.subjects import ORDER_SHIPPED
from tests.support.channel_events import order_shipped

SHIPPED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class OrderConsumer:
    """The broker (not started) and the messages it hands to workers."""

    broker: NatsBroker
    in_flight: InFlight

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await stop_consuming(self.broker, self.in_flight)


def order_consumer(
    nats_url: str,
    service: str,
    streams: StreamSettings,
    policy: DeliveryPolicy,
    handle: Callable[[OrderShipped], Awaitable[None]],
    *,
    workers: int,
    metrics: ServiceMetrics | None = None,
) -> OrderConsumer:
    """``service``'s durable consumer of ``order.shipped`` on ``streams``, ``workers`` at once."""
    broker = new_broker(CommonSettings(nats_url=nats_url, service_name=service))
    in_flight = InFlight()
    register_consumer(
        broker,
        service=service,
        streams=streams,
        policy=policy,
        event_type=OrderShipped,
        handle=handle,
        max_workers=workers,
        metrics=metrics,
        in_flight=in_flight,
    )
    return OrderConsumer(broker, in_flight)


async def publish_orders(
    js: JetStreamContext, streams: StreamSettings, tenant_id: str, order_ids: list[str]
) -> list[int]:
    """Each order (one line of ``SKU-1``) published to ``streams`` as a service publishes its
    events (``Nats-Msg-Id`` = event id); their stream sequences, in order."""
    sequences = []
    for order_id in order_ids:
        event = order_shipped(
            tenant_id, f"{ORDER_SHIPPED}:{order_id}", order_id, "ebay", [("SKU-1", 1)], SHIPPED
        )
        stored = await js.publish(
            ORDER_SHIPPED,
            event.model_dump_json().encode(),
            stream=streams.name,
            headers={MSG_ID_HEADER: event.event_id},
        )
        sequences.append(stored.seq)
    return sequences
