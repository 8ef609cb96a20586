"""A message whose body is not JSON at all, though its headers say it is, is dead-lettered as
``invalid_event`` on its first delivery (on real NATS JetStream), and the consumer goes on
with the next one.

Every consumer hands its handler the message itself (``relay_shared.bus.registration``):
FastStream does not decode the body first. When it did, a body that was not JSON under a
JSON content type failed in FastStream's decoder, before the ack discipline could see it:
never acked, delivered again until ``max_deliver``, and never dead-lettered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.bus import register_consumer
from relay_shared.bus.delivery import DeliverySettings
from relay_shared.bus.in_flight import InFlight
from relay_shared.bus.publishing import MSG_ID_HEADER
from relay_shared.bus.streams import StreamSettings, ensure_streams
from relay_shared.events import OrderShipped
from relay_shared.runtime import new_broker, stop_consuming
from relay_shared.settings import CommonSettings
from tests.support.channel_events import order_shipped
from tests.support.jetstream import collect, nats_client

STREAMS = StreamSettings(name="REL_UNDECODABLE")
SHIPPED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class Handled:
    """The events the handler got, and each one's arrival."""

    def __init__(self) -> None:
        self.events: list[OrderShipped] = []
        self.changed = asyncio.Event()

    async def handle(self, event: OrderShipped) -> None:
        self.events.append(event)
        self.changed.set()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(30):
            while len(self.events) < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture(scope="module")
async def handled(isolated_bus: StackEndpoints) -> AsyncIterator[Handled]:
    async with nats_client(isolated_bus.nats_url) as client:
        await ensure_streams(client.jetstream(), STREAMS)
    settings = CommonSettings(nats_url=isolated_bus.nats_url, service_name="undecodable")
    broker = new_broker(settings)
    in_flight = InFlight()
    seen = Handled()
    register_consumer(
        broker,
        service="undecodable",
        streams=STREAMS,
        policy=DeliverySettings(max_deliver=5).delivery_policy(),
        event_type=OrderShipped,
        handle=seen.handle,
        max_workers=4,
        in_flight=in_flight,
    )
    await broker.start()
    try:
        yield seen
    finally:
        await stop_consuming(broker, in_flight)


async def test_a_body_that_is_not_json_is_dead_lettered_at_once(
    isolated_bus: StackEndpoints, handled: Handled, unique_id: str
) -> None:
    broken_id = f"order.shipped:broken:{unique_id}"
    good = order_shipped(
        f"t_{unique_id}",
        f"order.shipped:undecodable:{unique_id}",
        f"O-{unique_id}",
        "amazon",
        [("SKU-1", 2)],
        SHIPPED,
    )
    async with nats_client(isolated_bus.nats_url) as client:
        js = client.jetstream()
        await js.publish(
            subjects.ORDER_SHIPPED,
            b"{not json at all",
            stream=STREAMS.name,
            headers={MSG_ID_HEADER: broken_id, "content-type": "application/json"},
        )
        await js.publish(
            subjects.ORDER_SHIPPED,
            good.model_dump_json().encode(),
            stream=STREAMS.name,
            headers={MSG_ID_HEADER: good.event_id, "content-type": "application/json"},
        )
        letters = await collect(
            client,
            subjects.dead_letter_stream(STREAMS.name),
            subjects.dead_letter_subject(subjects.ORDER_SHIPPED),
            until=lambda record: record["event_id"] == broken_id,
        )
        await handled.until(1)

    letter = letters[-1]
    assert (letter["service"], letter["code"], letter["deliveries"], letter["payload"]) == (
        "undecodable",
        "invalid_event",
        1,
        "{not json at all",
    )
    assert letter["reason"].startswith("<body>: Invalid JSON")
    assert [event.event_id for event in handled.events] == [good.event_id]
    assert json.loads(handled.events[0].model_dump_json())["items"] == [
        {"sku": "SKU-1", "quantity": 2}
    ]
